from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .identity import practice_profile_forget
from .models import PracticeProfile


@receiver([post_save, post_delete], sender=PracticeProfile)
def _forget_cached_profile(**kwargs: object) -> None:
    practice_profile_forget()
