"""Flower settings (``celery -A workers.celery_app flower --conf=deploy/flowerconfig.py``).

Credentials come from the environment, never from this file: ``FLOWER_BASIC_AUTH=user:password``
(Flower reads any ``FLOWER_<OPTION>`` variable). Flower refuses to start here without it.
"""

import os

if not os.environ.get("FLOWER_BASIC_AUTH"):
    raise SystemExit("set FLOWER_BASIC_AUTH=user:password (docker-compose.gpu.yml: FLOWER_USER/FLOWER_PASSWORD)")

# Loopback unless told otherwise (compose sets 0.0.0.0 inside its container and publishes the
# port on the host's loopback). /metrics and /healthcheck answer without credentials: that is
# Flower's design; they show task counts, never arguments or results.
address = os.environ.get("FLOWER_ADDRESS", "127.0.0.1")
port = int(os.environ.get("FLOWER_PORT", "5555"))
basic_auth = [os.environ["FLOWER_BASIC_AUTH"]]
# Workers that stop answering drop off the dashboard after 10 minutes.
purge_offline_workers = 600
# Keep a bounded history in memory.
max_tasks = 20000
# Columns that matter for GPU queues: which worker and how long.
tasks_columns = "name,uuid,state,received,started,runtime,worker,retries"
inspect_timeout = 2000.0
