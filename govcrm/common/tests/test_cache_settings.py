"""The cache is configuration: GOVCRM_CACHE=redis shares one Redis cache (and its atomic counters)
between processes; the file cache keeps enough entries that counters are not culled early; an
unknown kind is refused at start."""

import subprocess
import sys

from redis import Redis

from govcrm.common.testing.processes import BASE_DIR, Processes, govcrm_env, govcrm_run, redis_start

COUNT = "from django.core.cache import cache; cache.add('hits', 0); print(cache.incr('hits'))"


def test_redis_cache_is_shared_between_processes(tmp_path):
    with Processes() as procs:
        redis = redis_start(procs)
        env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path,
                         GOVCRM_CACHE="redis", GOVCRM_REDIS_URL=redis.url)
        counts = [govcrm_run(env, "shell", "-v", "0", "-c", COUNT).strip() for _ in range(3)]
        assert counts == ["1", "2", "3"]  # each process saw the others' increments
        keys = Redis(port=redis.port, db=1).keys()
        # in database 1 of the broker's server, apart from the queues in database 0
        assert any(key.endswith(b":hits") for key in keys)


def test_unknown_cache_kind_is_refused(tmp_path):
    env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path, GOVCRM_CACHE="memcached")
    done = subprocess.run([sys.executable, "-m", "govcrm", "check"], env=env, cwd=BASE_DIR,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode != 0
    assert "GOVCRM_CACHE must be" in done.stderr


def test_file_cache_keeps_counters_beyond_djangos_default_of_300(tmp_path):
    env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path, GOVCRM_CACHE="file")
    out = govcrm_run(env, "shell", "-v", "0", "-c", "from django.conf import settings; c = settings.CACHES['default'];"
                                         " print(c['BACKEND'], c['OPTIONS']['MAX_ENTRIES'])")
    backend, max_entries = out.split()
    assert backend.endswith("FileBasedCache")
    assert int(max_entries) >= 20_000
