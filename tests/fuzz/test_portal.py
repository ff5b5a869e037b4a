"""Her portal under bad input: intake, questionnaires, consent, profile, and other clients' ids.

Amara is signed in for every example; Beth is another client with her own
questionnaire, appointment, document, signature and paperwork. Every
example starts from the same rows (rolled back after it).
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from kap_sessions.instruments import INSTRUMENTS
from kap_sessions.models import (
    SECTIONS,
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Intake,
    SafetyFlag,
    ScreeningAnswer,
    ScreeningAssignment,
    ScreeningResponse,
    ScreeningStatus,
)
from practice.models import AuditEvent, Client, ClientDocument, OutboxMessage
from practice.private_files import private_file_save
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    PracticeProfileFactory,
    UserFactory,
)
from tests.kap_sessions.factories import ConsentSignatureFactory, ScreeningAssignmentFactory
from tests.kap_sessions.factories_documents import (
    EstimateLineFactory,
    SuperbillLineFactory,
)
from tests.kap_sessions.intake_steps import COMPLETE
from tests.support.calendar import FIRST_SLOT, NOW

from .checks import assert_answered_calmly, assert_shows_what_she_typed, changes, row_counts
from .strategies import (
    NUL,
    any_value,
    boxes,
    choices,
    emails,
    examples,
    free_text,
    ids,
    last,
    phones,
    submissions,
    zones,
)

pytestmark = pytest.mark.slow  # each test sends dozens to hundreds of requests

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TABLES = (
    Intake,
    Client,
    SafetyFlag,
    OutboxMessage,
    ScreeningResponse,
    ScreeningAnswer,
    ConsentSignature,
    ClientDocument,
)


@time_machine.travel(NOW, tick=False)
class PortalTestCase(TestCase):
    """Amara, signed in, and Beth, whose things Amara must never reach."""

    @classmethod
    def setUpTestData(cls) -> None:
        PracticeProfileFactory()
        cls.user = UserFactory(email="amara@example.com", first_name="Amara", last_name="Okafor")
        cls.amara = ClientFactory(
            user=cls.user, email=cls.user.email, first_name="Amara", last_name="Okafor"
        )
        beth_user = UserFactory(email="beth@example.com", first_name="Beth", last_name="Lind")
        cls.beth = ClientFactory(
            user=beth_user, email=beth_user.email, first_name="Beth", last_name="Lind"
        )

    def setup_example(self) -> None:
        super().setup_example()
        self.client.force_login(self.user)


# --- Intake ------------------------------------------------------------------------------

YES_NO_FIELDS = {
    name
    for answers in COMPLETE.values()
    for name, value in answers.items()
    if value in ("yes", "no")
}
INTAKE_CHOICES = {
    "blood_pressure": ["normal", "high_controlled", "high_uncontrolled", "unsure"],
    "substance_use": ["none", "some", "concerned", "recovery"],
    "state": ["CA", "NY", "OR", "WA", "ZZ"],
}


def _intake_field(name: str) -> st.SearchStrategy[str]:
    if name in YES_NO_FIELDS:
        return choices(["yes", "no"])
    if name in INTAKE_CHOICES:
        return choices(INTAKE_CHOICES[name])
    if name.endswith("_phone"):
        return phones()
    if name.endswith("_email"):
        return emails()
    return free_text()


def _intake_post(section: str) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    valid = {"section": section, "action": "continue", **COMPLETE[section]}
    own = {name: _intake_field(name) for name in COMPLETE[section]}
    own["section"] = st.one_of(st.sampled_from(list(COMPLETE)), any_value())
    own["action"] = choices(["continue", "later", "back", "submit"])
    return submissions(valid, own)


INTAKE_POSTS = st.sampled_from([section.name for section in SECTIONS]).flatmap(_intake_post)
INTAKE_WRITES = {
    "kap_sessions.Intake",
    "practice.Client",
    "kap_sessions.SafetyFlag",
    "practice.OutboxMessage",
}


class IntakeTests(PortalTestCase):
    @settings(max_examples=examples(3))
    @given(post=INTAKE_POSTS)
    @example(post={"section": "medical", "action": "continue", **COMPLETE["medical"]})
    @example(post={"section": "medications", "medications": "none" + NUL, "allergies": "none"})
    @example(post={"section": "medical" + NUL, "action": "continue"})
    @example(post={"section": "people", **COMPLETE["people"], "emergency_contact_phone": "5" * 40})
    @example(
        post={
            "section": "mental_health",
            **COMPLETE["mental_health"],
            "current_suicidal_thoughts": "yes",
        }
    )
    def test_a_section_saves_what_is_well_formed_and_comes_back_with_what_she_typed(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/portal/intake/", post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if response.status_code == 404:
            assert last(post.get("section")) not in COMPLETE
            assert made == {}
            return
        assert set(made) <= INTAKE_WRITES
        if made:
            # Her intake is made on her first save, and only her own.
            assert made["kap_sessions.Intake"] == 1
            assert Intake.objects.get().client_id == self.amara.pk
        else:
            # The save was refused as a whole: she is told why.
            assert response.status_code == 200
            assert "Something needs a second look" in response.content.decode()
        if response.status_code == 302 and response["Location"] == "/portal/support/":
            assert (made["kap_sessions.SafetyFlag"], made["practice.OutboxMessage"]) == (1, 1)
        else:
            assert "kap_sessions.SafetyFlag" not in made
            assert "practice.OutboxMessage" not in made
        if response.status_code == 200:
            assert_shows_what_she_typed(response, "/portal/intake/", post)


# --- Questionnaires ------------------------------------------------------------------------


def _answers(slug: str, assignment_ids: list[int]) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    items = INSTRUMENTS[slug].items
    valid = {"assignment": str(assignment_ids[0])}
    valid.update({f"item_{item.number}": "1" for item in items if item.required})
    own = {
        f"item_{item.number}": choices([str(position) for position in range(len(item.options))])
        for item in items
    }
    own["assignment"] = st.one_of(
        ids(hers=assignment_ids[:2], others=assignment_ids[2:]).map(str), any_value()
    )
    return st.tuples(st.just(slug), submissions(valid, own))


class QuestionnaireTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.open = {}
        for slug in INSTRUMENTS:
            hers = ScreeningAssignmentFactory(client=cls.amara, instrument=slug)
            answered = ScreeningAssignmentFactory(
                client=cls.amara, instrument=slug, status=ScreeningStatus.COMPLETED
            )
            ScreeningResponse.objects.create(
                assignment=answered,
                client=cls.amara,
                instrument=slug,
                version=INSTRUMENTS[slug].version,
                total=3,
                band="Minimal",
                completed_at=NOW - timedelta(days=3),
            )
            beths = ScreeningAssignmentFactory(client=cls.beth, instrument=slug)
            cls.open[slug] = [hers.pk, answered.pk, beths.pk]

    @settings(max_examples=examples(3))
    @given(data=st.data())
    @example(data=None)
    def test_answers_are_scored_once_or_come_back_with_her_choices(self, data):
        if data is None:
            slug, post = "epds", {"assignment": str(self.open["epds"][0]), "item_1": "1" + NUL}
        else:
            slug = data.draw(st.sampled_from(sorted(INSTRUMENTS)))
            _, post = data.draw(_answers(slug, self.open[slug]))
        path = f"/portal/questionnaires/{slug}/"
        before = row_counts(TABLES)
        assignment = _as_int(last(post.get("assignment")))

        response = self.client.post(path, post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        hers, answered, beths = self.open[slug]
        if assignment not in (hers, answered):
            # Not one of hers (Beth's, none, or not a number): nothing to answer.
            assert response.status_code == 404
            assert made == {}
            assert ScreeningAssignment.objects.get(pk=beths).status == ScreeningStatus.OPEN
            return
        if response.status_code == 302 and assignment == answered:
            assert made == {}
            return
        if response.status_code == 302:
            items = INSTRUMENTS[slug].items
            given_answers = sum(
                last(post.get(f"item_{item.number}")) in {str(p) for p in range(len(item.options))}
                for item in items
            )
            safety = response["Location"] == "/portal/support/"
            assert made == {
                "kap_sessions.ScreeningResponse": 1,
                "kap_sessions.ScreeningAnswer": given_answers,
                **({"kap_sessions.SafetyFlag": 1, "practice.OutboxMessage": 1} if safety else {}),
            }
            assert ScreeningAssignment.objects.get(pk=hers).status == ScreeningStatus.COMPLETED
            return
        assert response.status_code == 200
        assert made == {}
        assert "Something needs a second look" in response.content.decode()
        assert_shows_what_she_typed(response, path, post)


def _as_int(value: str | None) -> int | None:
    """The number Python reads in ``value`` (" 12", "+12", "1_2" and "١٢" alike), if any."""
    try:
        return int(value or "")
    except ValueError:
        return None


# --- Consent -------------------------------------------------------------------------------


class ConsentTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.document = ConsentDocument.objects.current().get(kind=ConsentKind.KAP_INFORMED_CONSENT)
        ConsentSignatureFactory(client=cls.beth, document=cls.document)

    def _valid(self) -> dict[str, str]:
        return {
            "typed_name": "Amara Okafor",
            "agree": "on",
            "shown_sha256": self.document.text_sha256(),
        }

    @settings(max_examples=examples(1))
    @given(data=st.data())
    @example(data=None)
    def test_a_signature_is_kept_once_or_the_form_comes_back_with_her_name(self, data):
        valid = self._valid()
        if data is None:
            post = {**valid, "typed_name": "Amara Okafor" + NUL}
        else:
            post = data.draw(
                submissions(
                    valid,
                    {
                        "typed_name": st.one_of(
                            st.sampled_from(["amara  okafor", "AMARA OKAFOR", " Amara Okafor\t"]),
                            free_text(),
                        ),
                        "agree": boxes(),
                        "shown_sha256": st.one_of(
                            st.just(valid["shown_sha256"].upper()), any_value()
                        ),
                    },
                    # Every example changes something: a signature renders a PDF,
                    # which costs as much as fifty other examples.
                    most_changed=3,
                ).filter(lambda post: post != valid)
            )
        path = f"/portal/consents/{self.document.pk}/"
        before = row_counts(TABLES)

        response = self.client.post(path, post)

        assert_answered_calmly(response)
        made = changes(before, row_counts(TABLES))
        if response.status_code == 302:
            assert made == {"kap_sessions.ConsentSignature": 1, "practice.ClientDocument": 1}
            signature = ConsentSignature.objects.get(client=self.amara)
            # Kept as she typed it, its spacing tidied.
            assert signature.typed_name == " ".join(last(post["typed_name"]).split())
        else:
            assert response.status_code == 200
            assert made == {}
            assert "Something needs a second look" in response.content.decode()
            assert_shows_what_she_typed(response, path, post)


# --- Profile -------------------------------------------------------------------------------

VALID_PROFILE = {
    "phone": "(510) 555-0100",
    "time_zone": "America/New_York",
    "state": "CA",
    "emergency_contact_name": "Chidi Okafor",
    "emergency_contact_phone": "(510) 555-0199",
    "emergency_contact_relationship": "husband",
    "support_person_name": "",
    "support_person_phone": "",
    "support_person_email": "",
}
PROFILE_FIELDS = {
    "phone": phones(),
    "time_zone": zones(),
    "state": choices(["CA", "NY", "OR", "ZZ", ""]),
    "emergency_contact_name": free_text(),
    "emergency_contact_phone": phones(),
    "emergency_contact_relationship": free_text(),
    "support_person_name": free_text(),
    "support_person_phone": phones(),
    "support_person_email": emails(),
}


class ProfileTests(PortalTestCase):
    @settings(max_examples=examples(1.5))
    @given(post=submissions(VALID_PROFILE, PROFILE_FIELDS))
    @example(post=VALID_PROFILE)
    @example(post={**VALID_PROFILE, "emergency_contact_name": "Chidi" + NUL})
    @example(post={**VALID_PROFILE, "time_zone": "Mars/Olympus"})
    def test_her_details_are_saved_or_come_back_as_she_typed_them(self, post):
        before = row_counts(TABLES)

        response = self.client.post("/portal/profile/", post)

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        amara = Client.objects.get(pk=self.amara.pk)
        if response.status_code == 302:
            assert response["Location"] == "/portal/profile/"
            assert (
                amara.emergency_contact_name
                == (last(post.get("emergency_contact_name")) or "").strip()
            )
        else:
            assert response.status_code == 400
            assert amara.emergency_contact_name == ""
            assert_shows_what_she_typed(response, "/portal/profile/", post)


# --- Other clients' ids -----------------------------------------------------------------------


class OtherClientsTests(PortalTestCase):
    """Every portal address with an id or a name in it, with hers, Beth's and made-up ones."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        start = FIRST_SLOT + timedelta(days=2)
        cls.mine = {
            "appointment": AppointmentFactory(client=cls.amara, start=start).pk,
            "document": cls._document(cls.amara).pk,
        }
        superbill = SuperbillLineFactory(superbill__client=cls.beth).superbill
        superbill.visible_to_client = True
        superbill.save()
        estimate = EstimateLineFactory(estimate__client=cls.beth).estimate
        estimate.shared_at = NOW
        estimate.save()
        cls.beths = {
            "appointment": AppointmentFactory(client=cls.beth, start=start + timedelta(hours=2)).pk,
            "document": cls._document(cls.beth).pk,
            "superbill": superbill.pk,
            "estimate": estimate.pk,
            "signature": ConsentSignatureFactory(client=cls.beth).pk,
        }

    @classmethod
    def _document(cls, client: Client) -> ClientDocument:
        return private_file_save(
            client=client,
            kind=ClientDocument.Kind.SIGNED_CONSENT,
            title="Signed consent",
            content=PDF,
            content_type=ClientDocument.ContentType.PDF,
            created_by=None,
            visible_to_client=True,
        )

    ADDRESSES = [
        "/portal/appointments/{}.ics",
        "/portal/documents/{}/",
        "/portal/consents/{}/",
        "/portal/paperwork/course-summary/{}/",
        "/portal/paperwork/superbills/{}/",
        "/portal/paperwork/estimates/{}/",
        "/portal/paperwork/estimates/{}/pdf/",
    ]

    @settings(max_examples=examples(2))
    @given(address=st.sampled_from(ADDRESSES), data=st.data())
    @example(address="/portal/documents/{}/", data=None)
    def test_an_id_that_is_not_hers_is_a_404_and_changes_nothing(self, address, data):
        number = (
            data.draw(ids(hers=list(self.mine.values()), others=list(self.beths.values())))
            if data is not None
            else 2**63
        )
        before = row_counts(TABLES)

        response = self.client.get(address.format(number))

        assert_answered_calmly(response)
        assert changes(before, row_counts(TABLES)) == {}
        if response.status_code == 200:
            hers = (
                (address.startswith("/portal/appointments/") and number == self.mine["appointment"])
                or (address.startswith("/portal/documents/") and number == self.mine["document"])
                or address.startswith("/portal/consents/")
            )
            assert hers, f"{address.format(number)} opened for Amara"
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            assert b"Lind" not in content
        elif response.status_code == 302:
            # An older consent version leads to the current one.
            assert address.startswith("/portal/consents/")
        else:
            assert response.status_code == 404

    @settings(max_examples=examples(1))
    @given(
        address=st.sampled_from(
            [
                "/portal/questionnaires/{}/",
                "/portal/questionnaires/{}/thanks/",
                "/portal/intake/?section={}",
                "/portal/?{}",
            ]
        ),
        name=st.one_of(st.sampled_from(["phq-9", "gad-7", "epds", "PHQ-9", "phq-9 "]), any_value()),
    )
    @example(address="/portal/intake/?section={}", name="medical" + NUL)
    def test_a_made_up_name_in_the_address_is_calm(self, address, name):
        before = row_counts(TABLES)

        response = self.client.get(address.format(quote(name, safe="")))

        assert_answered_calmly(response)
        assert response.status_code in (200, 404)
        assert changes(before, row_counts(TABLES)) == {}

    @settings(max_examples=examples(0.3))
    @given(post=submissions({}, {"client": ids().map(str), "include": any_value()}))
    def test_her_export_is_hers_whatever_the_post_says(self, post):
        before = AuditEvent.objects.count()

        response = self.client.post("/portal/export/", {**post, "client": str(self.beth.pk)})

        assert_answered_calmly(response)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        content = b"".join(response.streaming_content) if response.streaming else response.content
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            text = b"".join(archive.read(name) for name in archive.namelist())
        assert b"Okafor" in text
        assert b"Lind" not in text
        assert AuditEvent.objects.count() == before + 1
