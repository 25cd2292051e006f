from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recyclers.models import Organization, OrganizationAPIKey


class Command(BaseCommand):
    help = "Issue an API key to an organization and print it once (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("organization", metavar="SLUG")
        parser.add_argument("--name", required=True, help="A label, e.g. 'ERP production'.")
        parser.add_argument("--expires-in-days", type=int, help="Default: never expires.")

    def handle(self, *args, organization, name, expires_in_days, **options):
        owner = Organization.objects.filter(slug=organization).first()
        if owner is None:
            raise CommandError(f"No organization {organization!r}.")
        expiry = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        api_key, key = OrganizationAPIKey.objects.create_key(
            name=name, organization=owner, expiry_date=expiry
        )
        self.stderr.write(f"Key {api_key.prefix} for {owner}; it will not be shown again:")
        self.stdout.write(key)
