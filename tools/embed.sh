#!/bin/sh
# Embeds a file as a C string: embed.sh dir/name.lua out.c -> const char name_lua[].
set -eu
in=$1; out=$2
name=$(basename "$in" | tr '.-' '__')
{
  echo "/* Generated from $in; do not edit. */"
  printf 'const char %s[] = {' "$name"
  od -An -v -tx1 "$in" | tr -s ' \n' '  ' | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo '0x00};'
} > "$out.tmp"
mv "$out.tmp" "$out"
