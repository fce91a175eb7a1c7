#!/usr/bin/env bash
# Checks docker-compose.connect.yml without a Docker engine:
#   1. `docker-compose config` accepts it (Debian's docker-compose package validates offline);
#   2. every image is pinned to a full version (x.y.z, a PostgreSQL x.y, or a digest): no
#      `latest`, no missing tag, no floating major like `16` or `17-jre`; the same for the FROM
#      lines of docker/**/Dockerfile;
#   3. every service has a health check, except one-shot services (restart: "no"), whose exit
#      status is what counts (others wait for them with condition: service_completed_successfully);
#   4. the files the stack mounts or builds from are in the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."

compose_file=docker-compose.connect.yml
command -v docker-compose >/dev/null 2>&1 || {
  echo "compose check: docker-compose is not installed (apt-get install docker-compose)" >&2
  exit 1
}

failures=0
fail() {
  echo "compose check: $*" >&2
  failures=$((failures + 1))
}

# 1. the file is valid; the normalized form is what the other checks read
normalized="$(docker-compose -f "$compose_file" config)" || {
  echo "compose check: docker-compose config rejects $compose_file" >&2
  exit 1
}

# 2. pinned images
pinned() {
  local image="$1" name tag
  case "$image" in
    *@sha256:*) return 0 ;;
  esac
  name="${image%:*}"
  tag="${image##*:}"
  [ "$name" != "$image" ] && [ -n "$tag" ] && [[ "$tag" != */* ]] || return 1
  [ "$tag" != latest ] || return 1
  if [[ "$tag" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    return 0
  fi
  # PostgreSQL's versions have two parts since 10: 16.9 is a full version
  if [[ "${name##*/}" == postgres && "$tag" =~ ^[0-9]+\.[0-9]+($|-) ]]; then
    return 0
  fi
  return 1
}
images=0
while read -r image; do
  images=$((images + 1))
  pinned "$image" || fail "image $image is not pinned to a full version"
done < <(printf '%s\n' "$normalized" | sed -n 's/^    image: *//p' | tr -d "'\"")
[ "$images" -gt 0 ] || fail "no image: lines found in $compose_file"
while read -r dockerfile; do
  while read -r image; do
    pinned "$image" || fail "$dockerfile: FROM $image is not pinned to a full version"
  done < <(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$dockerfile")
done < <(find docker -name Dockerfile -type f)

# 3. health checks and 4. referenced files, from the normalized YAML
python3 - "$normalized" <<'PY' || failures=$((failures + 1))
import os, sys, yaml

config = yaml.safe_load(sys.argv[1])
services = config.get("services", {})
problems = []
for name, svc in sorted(services.items()):
    one_shot = str(svc.get("restart", "")) == "no"
    for dep, cond in (svc.get("depends_on") or {}).items():
        dep_one_shot = str(services.get(dep, {}).get("restart", "")) == "no"
        wanted = "service_completed_successfully" if dep_one_shot else "service_healthy"
        condition = cond.get("condition") if isinstance(cond, dict) else None
        if condition != wanted:
            problems.append(f"service {name} should wait for {dep} with condition: {wanted}")
    if "healthcheck" not in svc and not one_shot:
        problems.append(f"service {name} has no healthcheck")
    if "healthcheck" in svc and svc["healthcheck"].get("disable"):
        problems.append(f"service {name} disables its healthcheck")
    build = svc.get("build")
    if build:
        dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            problems.append(f"service {name} builds from {dockerfile}, which does not exist")
    for volume in svc.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
        kind = volume.get("type") if isinstance(volume, dict) else (
            "bind" if source.startswith(("/", ".", "~")) else "volume")
        # build outputs (target/) appear with mvn package; everything else must be committed
        if kind == "bind" and "/target/" not in source and not os.path.exists(source):
            problems.append(f"service {name} mounts {source}, which does not exist")
for p in problems:
    print("compose check: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

if [ "$failures" -gt 0 ]; then
  echo "compose check: $compose_file: $failures problem(s)" >&2
  exit 1
fi
echo "compose check: $compose_file valid, $images images pinned, health checks in place"
