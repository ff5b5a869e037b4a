"""The practice's starting rows for preparation: contraindications and consent texts.

Contraindications: the built-in rules computed from the intake, with the
usual outcomes for ketamine-assisted psychotherapy (KAP) in the US, and two
that the therapist marks on a client by hand. She can change their outcome,
wording and order, or turn any of them off, in the admin.

Consent documents: version 1 of each kind, published, with plain-English
text suitable for a small US practice. They are a starting point, marked as
such in their internal note: the therapist reviews them (with her own
counsel and her licensing board's rules) and publishes her own version 2,
since a published text never changes.

The texts are written out here rather than imported, so that this migration
keeps writing the same rows whatever later code does.
"""

from django.db import migrations
from django.utils import timezone

# (code, plain words, outcome, intake rule, order)
CONTRAINDICATIONS = [
    (
        "uncontrolled_hypertension",
        "Uncontrolled high blood pressure",
        "needs_medical_review",
        "uncontrolled_hypertension",
        10,
    ),
    (
        "psychosis_or_mania",
        "A history of psychosis, mania or bipolar disorder",
        "not_eligible",
        "psychosis_or_mania",
        20,
    ),
    (
        "active_substance_use",
        "Active substance use disorder",
        "not_eligible",
        "active_substance_use",
        30,
    ),
    ("pregnancy", "Pregnancy", "not_eligible", "pregnancy", 40),
    (
        "active_suicidal_ideation",
        "Current suicidal thoughts",
        "not_eligible",
        "active_suicidal_ideation",
        50,
    ),
    (
        "heart_condition",
        "Heart condition (needs medical clearance)",
        "needs_medical_review",
        "heart_condition",
        60,
    ),
    (
        "liver_condition",
        "Liver condition (needs medical clearance)",
        "needs_medical_review",
        "liver_condition",
        70,
    ),
    (
        "bladder_condition",
        "Bladder or urinary problems (needs medical clearance)",
        "needs_medical_review",
        "bladder_condition",
        80,
    ),
    (
        "glaucoma",
        "Glaucoma or raised eye pressure (needs medical clearance)",
        "needs_medical_review",
        "glaucoma",
        90,
    ),
    (
        "seizures",
        "Seizures or epilepsy (needs medical clearance)",
        "needs_medical_review",
        "seizures",
        100,
    ),
    (
        "raised_intracranial_pressure",
        "Raised pressure in the head, for example after a head injury or stroke "
        "(needs medical clearance)",
        "needs_medical_review",
        "",
        110,
    ),
    (
        "ketamine_hypersensitivity",
        "A past allergic or serious reaction to ketamine",
        "not_eligible",
        "",
        120,
    ),
]

STARTING_TEXT_NOTE = (
    "Starting text shipped with the practice's web app, not legal advice. Review it with "
    "your own counsel and your licensing board's rules, then publish your own version 2 "
    "before clients sign: a published version never changes."
)

KAP_CONSENT = """\
This document explains ketamine-assisted psychotherapy (KAP) as offered by this practice, \
so that you can decide whether to take part. Please read it in your own time and ask us \
about anything that is not clear before you sign.

What KAP is
KAP combines psychotherapy with a medicine, ketamine, taken at a low dose under supervision. \
Ketamine can soften fixed patterns of thought and feeling for a few hours, and the therapy \
sessions before and after help you make sense of the experience and carry what you learn \
into daily life. KAP has a beginning, a middle and an end: preparation sessions, one or more \
supervised medicine sessions, each followed by integration sessions, and a closing session. \
KAP is not a cure, and no particular result can be promised.

Who prescribes
Your therapist does not prescribe medicine. Ketamine is prescribed by a licensed medical \
prescriber, who decides whether it is safe for you, which dose and route to use, and who \
stays responsible for the medical side of your care. You agree that we may share what is \
needed for your safety with your prescriber (you sign a separate permission for this).

The supervised session
A medicine session lasts about 3.5 hours. Your therapist is with you the whole time. You will \
rest in a quiet, comfortable place; the strongest effects usually last 45 to 90 minutes and \
ease over the following hour. Your therapist checks in with you before you leave and again \
in the following days. Please follow your prescriber's instructions about eating, drinking \
and your usual medicines before the session.

Getting home
You must not drive, cycle or operate machinery for the rest of the day. An adult you trust \
must take you home after the session; we will not start the session without this plan. \
Please also arrange care for your children for the rest of that day.

Risks and side effects, in plain words
During and shortly after the session you may feel dizzy, sleepy, sick to your stomach or \
unsteady; you may feel detached from your body or surroundings, or see and hear things \
differently. Your blood pressure and heart rate usually rise for a while. Some people feel \
anxious, confused or upset during the experience; your therapist is there to help you \
through it. Rarely, ketamine can irritate the bladder, especially with frequent or heavy use, \
and it can be misused. Tell your therapist and prescriber at once about any new or worrying \
symptom. If you are, or may become, pregnant, or you are breastfeeding, tell us before any \
medicine session.

Confidentiality and its limits
What you tell us stays private and is kept securely. We will share information without your \
permission only when the law requires or allows it: if we believe you or someone else is in \
serious and immediate danger, if we suspect that a child or a vulnerable adult is being \
abused or neglected, or if a court orders it. Our notice of privacy practices explains this \
in full.

Your right to stop
Taking part is your choice. You may ask questions at any time, decline a medicine session, \
or stop KAP at any point, and this will not affect the rest of your care with us. Your \
therapist may also pause or end the medicine part of your care if it no longer seems safe \
or helpful, and will talk this through with you.

In an emergency
This practice does not provide emergency care. If you are in crisis, call or text 988 (the \
988 Suicide & Crisis Lifeline) or call 911.

By signing, you confirm that you have read this document, that your questions have been \
answered, and that you agree to take part in KAP with this practice.
"""

PRIVACY_NOTICE = """\
This notice describes how health information about you may be used and disclosed and how \
you can get access to this information. Please review it carefully.

How we use your information
We use your health information to provide your care, to arrange payment for it, and to run \
the practice (for example, keeping records and checking the quality of our work). We keep \
your records securely; clinical notes are encrypted.

When we share it without your permission
Only when the law requires or allows it: to prevent a serious threat to your health or \
safety or someone else's, to report suspected abuse or neglect of a child or vulnerable \
adult, when a court orders it, or to a health oversight agency. We share only what is needed.

When we ask for your permission
For anything else, including sharing with your prescriber, your support person or anyone \
else, we ask for your written permission first. You can take back a permission at any time, \
in writing, except for what we have already shared.

Your rights
You can ask to see or receive a copy of your records, ask us to correct them, ask for a list \
of those we have shared them with, ask us to limit what we share, and ask us to contact you \
in a particular way (for example, only by email). You can get a paper copy of this notice.

Questions and complaints
If you have a question or believe your privacy rights have been violated, please tell us. You \
may also complain to the U.S. Department of Health and Human Services, Office for Civil \
Rights. We will never hold a complaint against you.

By signing, you confirm that you have received this notice.
"""

FINANCIAL_POLICY = """\
Fees
Our current fees are given to you in writing before your first paid session. Preparation and integration sessions are billed as therapy sessions; the \
supervised medicine session is billed as one extended session. The medicine itself and the \
prescriber's care are billed separately by the prescriber.

Payment
Payment is due at the time of each session. We can give you a statement (a superbill) to \
send to your insurer; whether you are reimbursed depends on your plan.

Cancellations
Please give at least 48 hours' notice to cancel or move a session, or one week for a \
medicine session, which holds several hours of your therapist's time. Late cancellations and \
missed sessions may be charged in full. We understand that life with children is \
unpredictable: please talk to us.

Questions
If cost is a worry, please tell us before you begin, so we can talk about options.

By signing, you confirm that you have read and agree to this financial policy.
"""

RELEASE_PRESCRIBER = """\
By signing, you allow your therapist at this practice and your prescriber to share \
information about you with each other.

What may be shared: your relevant medical and mental health history, your screening \
questionnaire results, your medicines, what happened during supervised medicine sessions, \
and anything either of them needs to know to keep you safe.

Why: to plan and provide ketamine-assisted psychotherapy safely, and to coordinate your care.

For how long: until your course of care with this practice ends, or one year from the date \
you sign, whichever is sooner.

Your rights: you may take back this permission at any time by telling us in writing; this \
does not undo what has already been shared. You may decline to sign: the rest of your care \
with us does not depend on it, but supervised medicine sessions cannot go ahead without it, \
because they need your prescriber. Information shared may no longer be protected by federal privacy law once the recipient has \
it, although your prescriber is bound by the same rules as we are.
"""

RELEASE_SUPPORT_PERSON = """\
This permission is optional. By signing, you allow your therapist at this practice to talk \
with the support person you have named in your portal about your care.

What may be shared: appointment times, what to expect on the day of a medicine session and \
how to help you home, and, if your therapist is worried about your safety, what is needed to \
keep you safe. Your therapist will not share the content of your sessions.

For how long: until your course of care with this practice ends, or one year from the date \
you sign, whichever is sooner.

Your rights: you may take back this permission at any time by telling us in writing; this \
does not undo what has already been shared. Your care does not depend on signing. \
Information shared with your support person is no longer protected by federal privacy law.
"""

# (kind, title, body)
CONSENT_DOCUMENTS = [
    (
        "kap_informed_consent",
        "Informed consent for ketamine-assisted psychotherapy",
        KAP_CONSENT,
    ),
    ("privacy_notice", "Notice of privacy practices", PRIVACY_NOTICE),
    ("financial_policy", "Financial policy", FINANCIAL_POLICY),
    (
        "release_prescriber",
        "Permission to share information with your prescriber",
        RELEASE_PRESCRIBER,
    ),
    (
        "release_support_person",
        "Permission to share information with your support person",
        RELEASE_SUPPORT_PERSON,
    ),
]


def create_defaults(apps, schema_editor):
    Contraindication = apps.get_model("kap_sessions", "Contraindication")
    ConsentDocument = apps.get_model("kap_sessions", "ConsentDocument")
    for code, plain_words, outcome, intake_rule, order in CONTRAINDICATIONS:
        Contraindication.objects.get_or_create(
            code=code,
            defaults={
                "plain_words": plain_words,
                "outcome": outcome,
                "intake_rule": intake_rule,
                "order": order,
                "active": True,
            },
        )
    now = timezone.now()
    for kind, title, body in CONSENT_DOCUMENTS:
        ConsentDocument.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={
                "title": title,
                "body": body,
                "published_at": now,
                "internal_note": STARTING_TEXT_NOTE,
            },
        )


def remove_defaults(apps, schema_editor):
    # Rows clients have signed or been marked with are protected: going back
    # past this migration then fails, as it should.
    Contraindication = apps.get_model("kap_sessions", "Contraindication")
    ConsentDocument = apps.get_model("kap_sessions", "ConsentDocument")
    Contraindication.objects.filter(code__in=[row[0] for row in CONTRAINDICATIONS]).delete()
    ConsentDocument.objects.filter(
        version=1, kind__in=[row[0] for row in CONSENT_DOCUMENTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("kap_sessions", "0004_preparation"),
    ]

    operations = [
        migrations.RunPython(create_defaults, remove_defaults),
    ]
