"""Two `govcrm report send` processes at the same moment against one PostgreSQL database (production
settings, a demo city with its subscriptions, a real SMTP server on 127.0.0.1): every due report
goes out exactly once, and a third run later sends nothing."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from govcrm.common.testing.processes import BASE_DIR, SmtpSink, govcrm_env, govcrm_run, postgres_database

pytestmark = pytest.mark.slow


def test_two_processes_mail_each_due_report_once(tmp_path):
    with postgres_database("govcrm_reports") as db_url, SmtpSink() as smtp:
        env = govcrm_env(database_url=db_url, home=tmp_path, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port))
        govcrm_run(env, "migrate", "--no-input", timeout=300)
        # the demo city: staff with e-mail addresses and the demo's report subscriptions; cases over
        # the last 60 days, so that the week and the month that ended last have some
        govcrm_run(env, "demo", "--cases", "400", "--days", "60", timeout=600)
        senders = [subprocess.Popen([sys.executable, "-m", "govcrm", "report", "send"], env=env, cwd=BASE_DIR,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=600) for p in senders]
        assert [p.returncode for p in senders] == [0, 0], outputs
        # between them: supervisor weekly and monthly, manager_d1 weekly; none failed
        sent = sorted(int(out.split()[1].rstrip(",")) for out, _err in outputs)
        assert sum(sent) == 3 and all("failed 0" in out for out, _err in outputs), outputs
        assert govcrm_run(env, "report", "send").strip() == "sent 0, failed 0"
    got = Counter((m["To"], m["X-GovCRM-Report"].split()[0]) for m in smtp.messages)
    assert got == {("supervisor@staff.example.org", "weekly"): 1, ("supervisor@staff.example.org", "monthly"): 1,
                   ("manager_d1@staff.example.org", "weekly"): 1}
    manager = next(m for m in smtp.messages if m["To"].startswith("manager_d1"))
    assert "Weekly report" in manager["Subject"]
    assert [p.get_filename().endswith("-en.pdf") or p.get_filename().endswith("-en.xlsx")
            for p in manager.iter_attachments()] == [True, True]
