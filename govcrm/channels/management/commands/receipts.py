"""`govcrm receipts [status | retry] [--register]`: peak-hour intake receipts (channels/receipts.py, ADR 0023).

`status` counts receipts by state and lists the failed ones (number, attempts, reason); `retry`
puts failed receipts back in the queue once their cause is fixed; `--register` registers the
pending ones now, in this process, instead of waiting for a worker.
"""

from django.core.management.base import BaseCommand

from govcrm.channels.receipts import receipts_register, receipts_retry_failed, receipts_status


class Command(BaseCommand):
    help = "Peak-hour intake receipts: counts and failures (status), failed ones back to the queue (retry)."

    def add_arguments(self, parser):
        parser.add_argument("op", nargs="?", choices=["status", "retry"], default="status")
        parser.add_argument("--register", action="store_true", help="register the pending receipts now")

    def handle(self, *args, **opts):
        if opts["op"] == "retry":
            self.stdout.write(f"{receipts_retry_failed()} failed receipts queued again")
        if opts["register"]:
            total = 0
            while True:
                done, taken = receipts_register()
                total += done
                if taken == 0 or done == 0:
                    break
            self.stdout.write(f"{total} receipts registered")
        counts, failed = receipts_status()
        self.stdout.write(" ".join(f"{state}={n}" for state, n in sorted(counts.items())) or "no receipts")
        for receipt in failed:
            self.stdout.write(f"failed {receipt.number} received {receipt.received_at:%Y-%m-%d %H:%M:%S} "
                              f"attempts {receipt.attempts}: {receipt.error}")
