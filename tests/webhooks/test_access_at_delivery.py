"""A delivery is sent only while the user may still see the order: still watching it, through a link that still covers
its company and account. Queued before access ended, it gives up unsent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from orders.models import CustomerAccountLink
from watching.models import Watch
from watching.services import watch_stop
from webhooks.delivery import deliveries_send_due
from webhooks.models import WebhookDelivery

from .conftest import change_event, endpoint_for

pytestmark = pytest.mark.django_db


def _gave_up_unsent(receiver) -> str:
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("gave_up", 1, None)
    assert delivery.next_attempt_at is None
    return delivery.attempt_log.get().error


def test_a_delivery_queued_before_the_account_link_was_removed_is_not_sent(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    CustomerAccountLink.objects.get(user=alice).delete()  # its watches end by signal
    assert not Watch.objects.exists()

    assert deliveries_send_due(timezone.now()) == 0

    assert "no longer watches this order" in _gave_up_unsent(receiver)


def test_a_link_moved_to_another_account_behind_the_signals_back_sends_nothing(alice, receiver,
                                                                               allow_private) -> None:
    """QuerySet.update sends no signal, so the watch is still there: the link itself is checked."""
    endpoint_for(alice, receiver.url())
    change_event(alice)
    CustomerAccountLink.objects.filter(user=alice).update(account="US-999")
    assert Watch.objects.filter(user=alice).exists()

    assert deliveries_send_due(timezone.now()) == 0

    assert "may no longer see it" in _gave_up_unsent(receiver)


def test_a_link_to_the_same_account_in_another_company_does_not_count(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    CustomerAccountLink.objects.filter(user=alice).update(company="demf")

    assert deliveries_send_due(timezone.now()) == 0
    _gave_up_unsent(receiver)


def test_a_delivery_of_an_order_the_user_stopped_watching_is_not_sent(alice, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    assert watch_stop(user_id=alice.pk, company="usmf", number="001001")

    assert deliveries_send_due(timezone.now()) == 0
    _gave_up_unsent(receiver)


def test_a_watch_and_link_that_still_hold_are_sent_to_however_the_account_is_spelled(alice, receiver,
                                                                                   allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    CustomerAccountLink.objects.filter(user=alice).update(account="us-001")  # F&O compares accounts without case

    assert deliveries_send_due(timezone.now()) == 1
    assert len(receiver.received) == 1


def test_another_users_watch_does_not_keep_a_delivery_owed(alice, bob, receiver, allow_private) -> None:
    endpoint_for(alice, receiver.url())
    change_event(alice)
    Watch.objects.filter(user=alice).update(user=bob)  # the order is still watched, by someone else

    assert deliveries_send_due(timezone.now()) == 0
    _gave_up_unsent(receiver)
