"""What the client record and its invitations and documents guarantee by themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from practice.models import Client, ClientDocument, ClientInvitation
from tests.factories import (
    ClientDocumentFactory,
    ClientFactory,
    ClientInvitationFactory,
    sha256_of,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)


def assert_refused(instance: models.Model, *, constraint: str, message: str | None) -> None:
    """Django's check gives the friendly message; the database refuses the row by name."""
    with pytest.raises(ValidationError) as checked:
        instance.validate_constraints()
    assert checked.value.messages == [message or f"Constraint “{constraint}” is violated."]
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        instance.save()
    if connection.vendor == "postgresql":  # SQLite names only CHECK constraints
        assert constraint in str(refused.value)


def _client_in_an_unknown_state() -> models.Model:
    return ClientFactory.build(state="ZZ")


def _invitation_expiring_when_sent() -> models.Model:
    return ClientInvitationFactory.build(client=ClientFactory(), created_at=NOW, expires_at=NOW)


def _invitation_with_a_raw_token() -> models.Model:
    return ClientInvitationFactory.build(client=ClientFactory(), token_hash="Z" * 64)


def _invitation_used_and_revoked() -> models.Model:
    return ClientInvitationFactory.build(client=ClientFactory(), used_at=NOW, revoked_at=NOW)


def _second_outstanding_invitation() -> models.Model:
    first = ClientInvitationFactory()
    return ClientInvitationFactory.build(client=first.client)


def _document_with_a_short_hash() -> models.Model:
    return ClientDocumentFactory.build(client=ClientFactory(), sha256="abc123")


def _document_of_another_type() -> models.Model:
    return ClientDocumentFactory.build(client=ClientFactory(), content_type="text/html")


def _empty_document() -> models.Model:
    return ClientDocumentFactory.build(client=ClientFactory(), size=0)


def _document_of_an_unknown_kind() -> models.Model:
    return ClientDocumentFactory.build(client=ClientFactory(), kind="x-ray")


VIOLATIONS: dict[str, tuple[Callable[[], models.Model], str | None]] = {
    "practice_client_state_known": (
        _client_in_an_unknown_state,
        "Choose a US state or territory.",
    ),
    "practice_clientinvitation_expires_after_created": (
        _invitation_expiring_when_sent,
        "An invitation must expire after it is sent.",
    ),
    "practice_clientinvitation_token_hash_is_sha256": (_invitation_with_a_raw_token, None),
    "practice_clientinvitation_used_or_revoked": (_invitation_used_and_revoked, None),
    "practice_clientinvitation_one_outstanding_per_client": (
        _second_outstanding_invitation,
        "She already has an invitation that has not been used; revoke it before sending a new one.",
    ),
    "practice_clientdocument_sha256_is_hex": (_document_with_a_short_hash, None),
    "practice_clientdocument_content_type_allowed": (
        _document_of_another_type,
        "Only PDF, PNG and JPEG files can be kept.",
    ),
    "practice_clientdocument_not_empty": (_empty_document, "The file is empty."),
    "practice_clientdocument_kind_known": (_document_of_an_unknown_kind, None),
}


@pytest.mark.parametrize("constraint", sorted(VIOLATIONS))
def test_client_record_constraint_refuses_its_violation(constraint):
    build, message = VIOLATIONS[constraint]

    assert_refused(build(), constraint=constraint, message=message)


def test_client_record_constraints_are_all_tried_above():
    declared = {
        constraint.name
        for model in (Client, ClientInvitation, ClientDocument)
        for constraint in model._meta.constraints
        # The case-insensitive email is older than this work, and tested with the client.
        if constraint.name != "practice_client_email_ci_unique"
    }
    assert declared == set(VIOLATIONS)


# --- The client's own details --------------------------------------------------


def test_client_zone_is_hers_or_the_practices():
    practice_zone = ZoneInfo("America/Los_Angeles")

    assert ClientFactory.build(time_zone="").zone_or(practice_zone) == practice_zone
    assert ClientFactory.build(time_zone="America/Chicago").zone_or(practice_zone) == ZoneInfo(
        "America/Chicago"
    )


def test_client_time_zone_must_be_a_known_zone():
    client = ClientFactory.build(time_zone="Mars/Olympus_Mons")

    with pytest.raises(ValidationError) as caught:
        client.full_clean()

    assert caught.value.message_dict == {"time_zone": ["Not a known time zone."]}


def test_client_contacts_and_state_are_optional():
    client = ClientFactory()

    client.full_clean()

    assert (client.state, client.emergency_contact_name, client.support_person_email) == (
        "",
        "",
        "",
    )


# --- Invitations ---------------------------------------------------------------


def test_invitation_is_usable_until_it_expires():
    invitation = ClientInvitationFactory(created_at=NOW, expires_at=NOW + timedelta(days=7))

    assert invitation.is_usable(NOW + timedelta(days=7) - timedelta(seconds=1)) is True
    assert invitation.is_usable(NOW + timedelta(days=7)) is False
    assert invitation.is_expired(NOW + timedelta(days=7)) is True


def test_invitation_is_not_usable_once_used_or_revoked():
    used = ClientInvitationFactory(created_at=NOW, used_at=NOW + timedelta(hours=1))
    revoked = ClientInvitationFactory(created_at=NOW, revoked_at=NOW + timedelta(hours=1))

    assert used.is_usable(NOW + timedelta(hours=2)) is False
    assert revoked.is_usable(NOW + timedelta(hours=2)) is False


def test_usable_invitations_are_those_the_predicate_accepts():
    later = NOW + timedelta(days=3)
    usable = ClientInvitationFactory(created_at=NOW, expires_at=NOW + timedelta(days=7))
    ClientInvitationFactory(created_at=NOW, expires_at=NOW + timedelta(days=1))
    ClientInvitationFactory(created_at=NOW, used_at=NOW)
    ClientInvitationFactory(created_at=NOW, revoked_at=NOW)

    found = list(ClientInvitation.objects.usable(later))

    assert found == [usable]
    assert [i for i in ClientInvitation.objects.all() if i.is_usable(later)] == [usable]


def test_a_client_may_have_a_new_invitation_once_the_old_one_is_revoked():
    old = ClientInvitationFactory()
    old.revoked_at = old.created_at + timedelta(minutes=1)
    old.save()

    new = ClientInvitationFactory(client=old.client)

    assert list(ClientInvitation.objects.outstanding()) == [new]


# --- Documents -----------------------------------------------------------------


def test_documents_shown_to_her_are_her_visible_ones_newest_first():
    client = ClientFactory()
    older = ClientDocumentFactory(client=client, created_at=NOW)
    newer = ClientDocumentFactory(
        client=client,
        kind=ClientDocument.Kind.REFERRAL_LETTER,
        title="A letter for you",
        created_at=NOW + timedelta(days=1),
    )
    ClientDocumentFactory(client=client, visible_to_client=False)
    ClientDocumentFactory()  # another client's

    assert list(ClientDocument.objects.shown_to(client)) == [newer, older]
    assert ClientDocument.objects.for_client(client).count() == 3


def test_a_document_hash_is_lower_case_sha256_hex():
    document = ClientDocumentFactory.build(
        client=ClientFactory(), sha256=sha256_of("bytes").upper()
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        document.save()
