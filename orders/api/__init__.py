"""What the JSON API's views share: bearer authentication and per-token limits (`auth.py`), problem details
(`problems.py`), JSON bodies with ETags and freshness (`responses.py`), and the serializers (`serializers.py`).
The views themselves are in orders/views/api.py."""
