"""Is this F&O environment ready for the portal? For the IT team's first day and after every F&O update.

`fno_check_run()` gets a token and shows its claims, checks `$metadata` against what the portal reads
(orders/fno_reads.py), runs one small read per entity set, lists the companies the service user can see, and checks
that every account linked to a portal user exists in F&O. `python manage.py fno_check` and the staff health page's
"Test connection" both show its report.

The check calls F&O without the circuit breaker: it is the diagnosis people run when F&O misbehaves, and a
missing field (400) must not count against the breaker anyway.
"""


from orders.fno_check.edmx import ServiceModel, service_model_parse
from orders.fno_check.report import CheckLine, FnoCheckReport, Outcome, TokenClaims
from orders.fno_check.run import fno_check_run

__all__ = ["CheckLine", "FnoCheckReport", "Outcome", "ServiceModel", "TokenClaims", "fno_check_run",
           "service_model_parse"]
