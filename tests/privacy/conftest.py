"""The privacy tests' own bucket (an orphan count must see no other test's objects)."""

from tests.factories.privacy import bucket, officer_client, privacy_bucket  # noqa: F401  (fixtures)
