"""`govcrm mailserver [--host H] [--port P]`: the SMTP listener of the e-mail (and fax-to-mail) intake.

Listens on GOVCRM_SMTP_HOST:GOVCRM_SMTP_PORT (127.0.0.1:2525) by default and accepts mail for
GOVCRM_MAIL_INTAKE only; see `govcrm/channels/email/listener.py` for the SMTP answers.
Stops on Ctrl-C or SIGTERM after the messages being stored are finished.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from govcrm.channels.email.actions import intake_addresses
from govcrm.channels.email.listener import MAX_MESSAGE_BYTES, MailListener


class Command(BaseCommand):
    help = "Receive citizens' e-mail (and fax-to-mail) over SMTP into cases."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.GOVCRM_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.GOVCRM_SMTP_PORT)
        parser.add_argument("--max-bytes", type=int, default=MAX_MESSAGE_BYTES,
                            help="largest message accepted (larger ones get 552)")

    def handle(self, *args, **opts):
        listener = MailListener(opts["host"], opts["port"], data_size_limit=opts["max_bytes"])
        addresses = ", ".join(sorted(intake_addresses()))
        self.stdout.write(f"Mail intake for {addresses} on smtp://{opts['host']}:{opts['port']} (Ctrl-C stops)")
        listener.serve_forever()
