#!/usr/bin/env bash
# The demo on the embedded default: SQLite file, filesystem broker (no server needed), Django's
# server, one worker consuming every queue, and beat. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PORT="${PORT:-8000}"
py=.venv/bin/python
$py manage.py migrate --no-input -v 0
$py manage.py compilemessages -v 0 2>/dev/null || true
$py manage.py collectstatic --no-input -v 0
$py manage.py demo
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
.venv/bin/celery -A config worker -Q urgent,control,routine --concurrency 2 --loglevel WARNING & pids+=($!)
.venv/bin/celery -A config beat --loglevel WARNING & pids+=($!)
$py manage.py demo_clerks & pids+=($!)
$py manage.py runserver "127.0.0.1:$PORT" & pids+=($!)
sleep 2
echo
echo "公文流转 is running at http://127.0.0.1:$PORT/  (admin: http://127.0.0.1:$PORT/admin/)"
echo "Logins: zzb, jygw, imu, auditor — password: demo-password. Ctrl-C stops it."
wait
