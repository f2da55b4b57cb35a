from orders.memo import ObjectMemo


class Copy:
    pass


def test_work_is_done_once_per_object_and_variant() -> None:
    memo = ObjectMemo()
    made = []
    a, b = Copy(), Copy()
    for _ in range(3):
        memo.get(a, "en", lambda: made.append("a-en"))
    memo.get(a, "de", lambda: made.append("a-de"))
    memo.get(b, "en", lambda: made.append("b-en"))
    assert made == ["a-en", "a-de", "b-en"]


def test_a_new_object_at_a_reused_address_is_not_served_the_old_result() -> None:
    memo = ObjectMemo()
    first = Copy()
    memo.get(first, None, lambda: "old")
    address = id(first)
    del first
    for _ in range(100):
        other = Copy()
        if id(other) == address:
            break
    assert memo.get(other, None, lambda: "new") == "new"


def test_memo_is_bounded() -> None:
    memo = ObjectMemo(max_entries=10)
    keep = [Copy() for _ in range(50)]
    for obj in keep:
        memo.get(obj, None, lambda: 1)
    assert len(memo._data) == 10
