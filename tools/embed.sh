#!/bin/sh
# Embeds a file as a C string: embed.sh dir/name.lua out.c -> const char name_lua[].
# A Lua script with a line "--#include <name>" gets common/<name>.lua put
# before it (the shared agent compare-and-set, common/agent_cas.lua).
set -eu
in=$1; out=$2
name=$(basename "$in" | tr '.-' '__')
src=$in
inc=$(sed -n 's/^--#include \([a-z_]*\)$/\1/p' "$in")
if [ -n "$inc" ]; then
  src="$out.src"
  for i in $inc; do cat "common/$i.lua"; done > "$src"
  cat "$in" >> "$src"
fi
{
  echo "/* Generated from $in; do not edit. */"
  printf 'const char %s[] = {' "$name"
  od -An -v -tx1 "$src" | tr -s ' \n' '  ' | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo '0x00};'
} > "$out.tmp"
mv "$out.tmp" "$out"
[ "$src" = "$in" ] || rm -f "$src"
