from panther_like.db.models import BaseUser


class User(BaseUser):
    """The example's user: BaseUser's fields plus an optional e-mail address, which its owner may change."""

    email: str | None = None

    editable_fields = frozenset({'email'})
