"""Bad input at scale: Hypothesis posts thousands of generated submissions to every public
and portal form and every JSON endpoint (issue 13).

What is sent and the rule every answer is held to (no 500, no partial rows,
the form comes back with what she typed) are in ``strategies.py``; the
checks in ``checks.py``. Each example starts from the same rows: the tests
are ``hypothesis.extra.django.TestCase`` classes, so every example runs in a
transaction of its own that is rolled back. ``FUZZ_EXAMPLES`` scales the
number of examples; ``HYPOTHESIS_PROFILE`` picks the profile (``conftest.py``).

Inventory (from the URL confs of practice, consultations, newsletter and
kap_sessions; ``grep JsonResponse``), each with the test that covers it:

Public forms
- ``/consultation/`` booking POST (start, hidden submission id and zone, contact,
  intake, consent, honeypot): ``test_consultation.BookingTests``
- ``/consultation/`` GET (``?tz=``, ``?from=``), the picker's own form:
  ``test_consultation.SlotsTests``
- ``/consultation/waitlist/`` POST: ``test_consultation.WaitlistTests``
- ``/consultation/manage/<token>/`` and its ``reschedule/`` (start) and ``cancel/``
  (reason) steps, and altered tokens on all three (GET, HEAD, POST):
  ``test_consultation.ManageTests``
- ``/newsletter/`` sign-up, form POST and the in-place JSON POST (with any
  User-Agent): ``test_newsletter.SignupTests``
- ``/newsletter/confirm/<token>/``, ``/newsletter/unsubscribe/<token>/`` (including
  the one-click POST with no cookie), ``/newsletter/preferences/<token>/``, its
  ``data.json`` and ``delete/``, with altered and forged-signature tokens:
  ``test_newsletter.LinkTests``
- ``/``, ``/articles/`` (``?page=``), ``/articles/<slug>/``, ``/articles/feed/``:
  ``test_newsletter.ArticleTests``
- ``/accounts/login/`` (login, password, ``next``) and its second step
  ``/accounts/2fa/authenticate/``: ``test_accounts.LoginTests``
- ``/accounts/password/reset/`` and its link ``/accounts/password/reset/key/<key>/``:
  ``test_accounts.PasswordTests``
- ``/accounts/welcome/<token>/`` (invitation: set password) and ``.../new/`` (ask for a
  new link), with altered tokens: ``test_accounts.InvitationTests``
- ``/calendar/feed/<token>.ics`` with altered tokens: ``test_accounts.CalendarFeedTests``

Portal forms (signed in as a client)
- ``/portal/intake/`` every section, every button: ``test_portal.IntakeTests``
- ``/portal/questionnaires/<slug>/`` for phq-9, gad-7 and epds, with her, another
  client's and made-up assignment ids: ``test_portal.QuestionnaireTests``
- ``/portal/consents/<id>/`` signing: ``test_portal.ConsentTests``
- ``/portal/profile/``: ``test_portal.ProfileTests``
- ``/accounts/password/change/``, ``/accounts/reauthenticate/``,
  ``/accounts/2fa/totp/activate/`` (linked from her profile): ``test_accounts.PasswordTests``
- ``/portal/export/`` POST, and every address with an id or a name in it
  (``appointments/<id>.ics``, ``documents/<id>/``, ``consents/<id>/``, ``paperwork/...``,
  ``questionnaires/<slug>/`` and ``thanks/``, ``intake/?section=``) with her, another
  client's, made-up and out-of-range ids: ``test_portal.OtherClientsTests``

JSON endpoints
- ``/consultation/slots.json?tz=``: ``test_consultation.SlotsTests``
- ``/newsletter/`` with ``Accept: application/json``: ``test_newsletter.SignupTests``
- ``/newsletter/preferences/<token>/data.json``: ``test_newsletter.LinkTests``
- ``/healthz``: ``test_json.HealthTests``
- the dosing page's vitals (``/admin/kap_sessions/dosingrecord/<id>/vitals/``, staff):
  ``test_json.VitalsTests``

Every form's address, whatever its fields
- bodies no browser sends (raw bytes, broken percent-encoding, unknown charsets, broken
  multipart, JSON, 1,200 fields, 3 MB) and forged CSRF tokens, also on the portal's
  sign-out (``/accounts/logout/``):
  ``test_transport.TransportTests``
"""
