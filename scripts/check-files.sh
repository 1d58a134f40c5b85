#!/usr/bin/env bash
# Fails when git tracks a build output: an executable binary, any file that
# is not text, or anything over 1 MiB. Screenshots under docs/ (PNG, below
# 1 MiB) are the one kind of binary file the repository keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$((1024 * 1024))
bad=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue # deleted in the working tree
  size=$(stat -c %s "$f")
  if [ "$size" -gt "$limit" ]; then
    echo "FAIL: $f is $size bytes (over 1 MiB): build outputs and data do not belong in git" >&2
    bad=1
    continue
  fi
  if [ "$size" -gt 0 ] && ! grep -Iq . "$f"; then # grep -I: binary files never match
    case "$f" in
      docs/*.png) ;;
      *) echo "FAIL: $f is a binary file: build outputs go to bin/ (git-ignored)" >&2; bad=1 ;;
    esac
  fi
done < <(git ls-files -z)
# A tracked symlink (a worktree's bin -> /work/…/bin, say) points outside
# the clone on every other machine.
while IFS= read -r line; do
  echo "FAIL: ${line#*$'\t'} is a symlink: it does not belong in git" >&2
  bad=1
done < <(git ls-files -s | awk '$1 == "120000"')
[ "$bad" -eq 0 ] && echo "tracked files: no binaries, none over 1 MiB"
exit "$bad"
