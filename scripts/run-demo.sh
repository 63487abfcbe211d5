#!/usr/bin/env bash
# The demo on the embedded default: SQLite file, filesystem broker (no server needed), Django's
# server, one worker consuming every queue, and beat (their start-up banners left out). Ctrl-C stops
# all of them. PORT=8001 make run serves on another port.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PORT="${PORT:-8000}"
py=.venv/bin/python
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "make run: port $PORT is taken (another make run?); PORT=8001 make run serves on another port" >&2
  exit 1
fi

# The demo's environment, kept in .env (git-ignored) for this run and for every later command:
# config/settings.py reads .env, so `python manage.py chain …` in another terminal finds the demo's
# database and key without exporting anything (a variable set in the shell still wins over .env).
# Written on every run from what this run uses, keeping the key it generated the first time (so a
# restart keeps people logged in). A .env that make run did not write is an operator's: left alone.
ENV_MARK="# Written by make run (scripts/run-demo.sh): the demo's environment."
if [ ! -e .env ] || [ "$(head -n 1 .env)" = "$ENV_MARK" ]; then
  key=$(sed -n 's/^SECRET_KEY=//p' .env 2>/dev/null || true)
  [ -n "$key" ] || key=$($py -c 'import secrets; print(secrets.token_urlsafe(50))')
  (
    umask 077
    {
      echo "$ENV_MARK"
      echo "# Read by config/settings.py; variables set in the shell win. For the demo only, never in"
      echo "# production. Delete it to stop later commands from using the demo's settings."
      echo "DEBUG=$DEBUG"
      echo "SECRET_KEY=$key"
      echo "DATABASE_URL=${DATABASE_URL:-sqlite:///$PWD/var/db.sqlite3}"
      if [ -n "${REDIS_URL:-}" ]; then echo "REDIS_URL=$REDIS_URL"; else echo "# REDIS_URL unset: the filesystem broker under var/broker"; fi
      # The demo's key for signing audit checkpoints (written below when missing): under var/, for
      # the demo only. A deployment keeps its key off the database host (README).
      echo "AUDIT_SIGNING_KEY_FILE=${AUDIT_SIGNING_KEY_FILE:-$PWD/var/audit-demo-signing.key}"
      echo "AUDIT_CHECKPOINT_DIR=${AUDIT_CHECKPOINT_DIR:-$PWD/var/checkpoints}"
    } > .env.new
    mv .env.new .env
  )
else
  echo "make run: .env was not written by make run; using it as it is" >&2
fi

$py manage.py migrate --no-input -v 0
key_file=${AUDIT_SIGNING_KEY_FILE:-$(sed -n 's/^AUDIT_SIGNING_KEY_FILE=//p' .env 2>/dev/null || true)}
if [ -z "$key_file" ]; then
  echo "make run: no AUDIT_SIGNING_KEY_FILE configured: audit checkpoints are not written" >&2
elif [ ! -e "$key_file" ]; then
  if ! said=$($py manage.py audit_keygen "$key_file" 2>&1 > /dev/null); then echo "$said" >&2; exit 1; fi
  echo "make run: no audit signing key yet: wrote a demo key, $key_file (for the demo only)"
fi
$py manage.py compilemessages -v 0 2>/dev/null || true
$py manage.py collectstatic --no-input -v 0
demo=$($py manage.py demo)
echo "$demo" | head -n 1
# A signed checkpoint of the demo's audit log at once (beat writes the next ones): verify_audit checks
# the chain against it. A refusal (var/checkpoints of an older demo database?) is shown, not fatal.
if [ -n "$key_file" ]; then $py manage.py audit_checkpoint > /dev/null || true; fi
pids=()
stop() { kill "${pids[@]}" 2>/dev/null; wait; }
trap stop EXIT
trap 'exit 0' INT TERM  # Ctrl-C is how the demo ends, not a failure
.venv/bin/celery --quiet -A config worker -Q urgent,control,routine,webhooks --concurrency 2 --loglevel WARNING & pids+=($!)
.venv/bin/celery --quiet -A config beat --loglevel WARNING & pids+=($!)
$py manage.py demo_clerks & pids+=($!)
# No autoreloader: its second process would outlive the trap's kill (a background job of a script
# ignores Ctrl-C) and keep the port.
$py manage.py runserver --noreload "127.0.0.1:$PORT" & pids+=($!)
# The banner last, once the server answers, so that the start-up lines do not bury it.
for _ in $(seq 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "${pids[3]}" 2>/dev/null || exit 1  # the server did not start (the port is taken?)
  sleep 0.5
done
echo
echo "公文流转 is running at http://127.0.0.1:$PORT/ — the admin at http://127.0.0.1:$PORT/admin/ (log in as admin)."
echo "$demo" | sed -n '/^demo logins/,$p'
echo "Another port: PORT=8001 make run. In another terminal, python manage.py … uses the demo's .env. Ctrl-C stops it."
wait
