"""The therapist's KAP pages in the admin, one module per concern.

Django's autodiscovery imports this package; importing the modules below
registers their ``ModelAdmin`` classes.

- ``course``: KAP courses; phase moves are actions through ``course_advance``.
- ``screening``: questionnaire assignments (the assign form), her answered
  questionnaires (read-only, audited) and the EPDS cut-offs.
- ``consent``: consent documents version by version (publish, new version)
  and the signatures made (read-only, audited).
- ``intake``: her intake as she answered it, one read-only, audited page
  per client (``admin:kap_sessions_client_intake``).
- ``safety``: safety flags and "Acknowledge with a note".
- ``eligibility``: contraindications, hand marks, eligibility decisions and
  each client's "Eligibility and safety" page with the referral letter.
- ``common``: the small helpers several of them use.

Who acted is ``practice.admin_actions.admin_actor`` in every admin module.
"""

from . import consent, course, eligibility, intake, safety, screening

__all__ = ["consent", "course", "eligibility", "intake", "safety", "screening"]

from . import notes  # noqa: E402 (session and psychotherapy notes, issue 11)

__all__ += ["notes"]

from . import dosing  # noqa: E402 (the medicine session page, issue 11)

__all__ += ["dosing"]

from . import billing  # noqa: E402 (superbills and Good Faith Estimates, issue 11)

__all__ += ["billing"]

from . import sessions  # noqa: E402 (course sessions: held, cancelled, moved; issue 11)

__all__ += ["sessions"]
