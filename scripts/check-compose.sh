#!/usr/bin/env bash
# Validates every compose file shipped (docker-compose*.yml) with `docker compose config -q` (or Debian's
# docker-compose), and checks what they promise:
#   - docker-compose.yml is a development stack: NODE_ENV=development, every published port on 127.0.0.1,
#     no admin key written in it;
#   - docker-compose.prod.yml refuses to start without each of the operator's secrets.
# CI runs it (.ci/run); it needs no Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "neither 'docker compose' nor 'docker-compose' is installed" >&2
  exit 1
fi

# What docker-compose.prod.yml requires; dummy values only to validate the file's syntax.
REQUIRED=(BOOTSTRAP_API_KEY KMS_KEY_ID AWS_REGION POSTGRES_PASSWORD REDIS_PASSWORD)
DUMMY=()
UNSET=()
for v in "${REQUIRED[@]}"; do
  DUMMY+=("$v=ci-dummy-$v")
  UNSET+=(-u "$v")
done

fail() {
  echo "compose check failed: $*" >&2
  exit 1
}

for f in docker-compose*.yml; do
  env "${DUMMY[@]}" "${COMPOSE[@]}" -f "$f" config -q || fail "$f is not valid"
  echo "$f is valid"
done

dev=$(env "${UNSET[@]}" "${COMPOSE[@]}" -f docker-compose.yml config)
grep -q 'NODE_ENV: production' <<<"$dev" && fail "docker-compose.yml runs NODE_ENV=production"
grep -q 'NODE_ENV: development' <<<"$dev" || fail "docker-compose.yml does not say NODE_ENV=development"
# Published ports as the config renders them: "- 127.0.0.1:3000:3000/tcp" (v1) or "host_ip: 127.0.0.1" (v2).
if grep -Eq '^\s+- "?[0-9]+:[0-9]+' <<<"$dev" || grep -Eq 'host_ip: (0\.0\.0\.0|::)' <<<"$dev" ||
  { grep -q 'published:' <<<"$dev" && ! grep -q 'host_ip: 127.0.0.1' <<<"$dev"; }; then
  fail "docker-compose.yml publishes a port on every interface"
fi
grep -Eq 'BOOTSTRAP_API_KEY: .+' <<<"$dev" && ! grep -Eq 'BOOTSTRAP_API_KEY: (null|"")$' <<<"$dev" &&
  fail "docker-compose.yml writes an admin key"
echo "docker-compose.yml is a development stack bound to 127.0.0.1"

for v in "${REQUIRED[@]}"; do
  others=()
  for d in "${DUMMY[@]}"; do [[ $d == "$v="* ]] || others+=("$d"); done
  if env -u "$v" "${others[@]}" "${COMPOSE[@]}" -f docker-compose.prod.yml config -q 2>/dev/null; then
    fail "docker-compose.prod.yml starts without $v"
  fi
done
echo "docker-compose.prod.yml refuses to start without ${REQUIRED[*]}"
