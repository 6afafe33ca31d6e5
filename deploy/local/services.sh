#!/usr/bin/env bash
# Installs, starts, waits for and stops the local Apache Kafka broker and the MongoDB-wire
# database (mongo-java-server over an H2 file, see deploy/mongo/) as native processes: these
# machines have no container engine. Both run on the machine's Java and are fetched by Maven.
#
#   services.sh install   fetch Kafka's jars and build the database's launcher (Maven), once
#   services.sh up        install, then start whatever is not running yet, and wait for it
#   services.sh down      stop both
#   services.sh status    say what runs where
#   services.sh env       print the KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI to use
#   services.sh scram-env the Kafka settings for the broker's SCRAM listener (see below)
#
# When KAFKA_BOOTSTRAP_SERVERS or MONGODB_URI is already set, that service is taken as given
# and nothing is installed or started for it.
#
# KAFKA_INSTANCE=outage selects a second, separate Kafka broker (its own data, pid, log and
# ports 29094/29095; the same jars) that tests stop and start to simulate an outage without
# disturbing the shared broker. The commands then act on that broker only.
#
# Each broker also has a SASL_PLAINTEXT listener with SCRAM-SHA-512 (port 29096, the outage
# broker's 29097; LOCAL_KAFKA_SCRAM_PORT, LOCAL_OUTAGE_KAFKA_SCRAM_PORT) whose user
# (LOCAL_KAFKA_SCRAM_USER / LOCAL_KAFKA_SCRAM_PASSWORD, default tiktok-shop / tiktok-shop-local)
# is created when the storage is formatted. `services.sh scram-env` prints the service's settings
# for it. Storage formatted before the listener existed has no user: the outage broker's (thrown
# away by design) is formatted anew; the shared broker's is left alone, with a warning.
#
# MONGO_INSTANCE=outage does the same for the database: a second one on port 27029
# (LOCAL_OUTAGE_MONGO_PORT) with its own data, pid and log.
#
# KAFKA_INSTANCE=reliability and MONGO_INSTANCE=reliability are a third pair, for the fault
# table (`make reliability`): Kafka on 29098/29099 and SCRAM on 29100
# (LOCAL_RELIABILITY_KAFKA_PORT, LOCAL_RELIABILITY_KAFKA_CONTROLLER_PORT,
# LOCAL_RELIABILITY_KAFKA_SCRAM_PORT), the database on 27031
# (LOCAL_RELIABILITY_MONGO_PORT), so that a run disturbs neither the shared services nor the
# tests' outage instances.
#
# A named instance's commands also take `kill`, which ends the process with SIGKILL as a crash
# would, and `purge`, which stops it and deletes its data.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=${LOCAL_DIR:-$ROOT/.local}
INSTANCE=${KAFKA_INSTANCE:-}
case $INSTANCE in
  "")
    KAFKA_PORT=${LOCAL_KAFKA_PORT:-29092}
    KAFKA_CONTROLLER_PORT=${LOCAL_KAFKA_CONTROLLER_PORT:-29093}
    KAFKA_SCRAM_PORT=${LOCAL_KAFKA_SCRAM_PORT:-29096}
    ;;
  outage) # its own ports, whatever moved the main broker's
    KAFKA_PORT=${LOCAL_OUTAGE_KAFKA_PORT:-29094}
    KAFKA_CONTROLLER_PORT=${LOCAL_OUTAGE_KAFKA_CONTROLLER_PORT:-29095}
    KAFKA_SCRAM_PORT=${LOCAL_OUTAGE_KAFKA_SCRAM_PORT:-29097}
    ;;
  reliability)
    KAFKA_PORT=${LOCAL_RELIABILITY_KAFKA_PORT:-29098}
    KAFKA_CONTROLLER_PORT=${LOCAL_RELIABILITY_KAFKA_CONTROLLER_PORT:-29099}
    KAFKA_SCRAM_PORT=${LOCAL_RELIABILITY_KAFKA_SCRAM_PORT:-29100}
    ;;
  *) echo "[services] error: unknown KAFKA_INSTANCE '$INSTANCE' (outage or reliability)" >&2; exit 2 ;;
esac
MONGO_INSTANCE=${MONGO_INSTANCE:-}
case $MONGO_INSTANCE in
  "") MONGO_PORT=${LOCAL_MONGO_PORT:-27027} ;;
  outage) MONGO_PORT=${LOCAL_OUTAGE_MONGO_PORT:-27029} ;; # its own, whatever moved the main one's
  reliability) MONGO_PORT=${LOCAL_RELIABILITY_MONGO_PORT:-27031} ;;
  *) echo "[services] error: unknown MONGO_INSTANCE '$MONGO_INSTANCE' (outage or reliability)" >&2; exit 2 ;;
esac
if [[ -n $INSTANCE && -n $MONGO_INSTANCE ]]; then
  echo "[services] error: set KAFKA_INSTANCE or MONGO_INSTANCE, not both" >&2
  exit 2
fi
START_TIMEOUT=${LOCAL_START_TIMEOUT:-120}

KAFKA_HOME=$LOCAL/kafka
KAFKA_LIB=$KAFKA_HOME/lib
KAFKA_NAME=kafka${INSTANCE:+-$INSTANCE}
KAFKA_STATE=$LOCAL/$KAFKA_NAME  # server.properties and data; the default's is KAFKA_HOME
KAFKA_DATA=$KAFKA_STATE/data
KAFKA_LOG=$LOCAL/logs/$KAFKA_NAME.log
KAFKA_PID=$LOCAL/run/$KAFKA_NAME.pid
SCRAM_USER=${LOCAL_KAFKA_SCRAM_USER:-tiktok-shop}
SCRAM_PASSWORD=${LOCAL_KAFKA_SCRAM_PASSWORD:-tiktok-shop-local}
# Written when the storage is formatted with the SCRAM user: storage without it predates it.
SCRAM_MARK=$KAFKA_STATE/scram-user
MONGO_HOME=$LOCAL/mongo
MONGO_LIB=$MONGO_HOME/lib  # the launcher's jar and its class path, shared by both instances
MONGO_NAME=mongo${MONGO_INSTANCE:+-$MONGO_INSTANCE}
if [[ -z $MONGO_INSTANCE ]]; then
  MONGO_DATA=${LOCAL_MONGO_DATA:-$MONGO_HOME/data}
else
  MONGO_DATA=$LOCAL/$MONGO_NAME/data
fi
MONGO_LOG=$LOCAL/logs/$MONGO_NAME.log
MONGO_PID=$LOCAL/run/$MONGO_NAME.pid
# H2's page cache; smaller makes scans of large collections read the file again and again.
MONGO_CACHE_MB=${LOCAL_MONGO_CACHE_MB:-512}

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# A named instance is always the local one: the given address belongs to the shared broker.
external_kafka() { [[ -z $INSTANCE && -n ${KAFKA_BOOTSTRAP_SERVERS:-} ]]; }
external_mongo() { [[ -n ${MONGODB_URI:-} ]]; }

install_kafka() {
  if [[ -f $KAFKA_LIB/.complete && $KAFKA_LIB/.complete -nt $ROOT/deploy/kafka/pom.xml ]]; then
    return
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka's jars"
  command -v java >/dev/null || die "Java 17+ is needed to run Kafka"
  log "fetching Kafka's jars with Maven into $KAFKA_LIB"
  rm -rf "$KAFKA_LIB.tmp"
  mkdir -p "$KAFKA_HOME" "$LOCAL/logs"
  mvn -B -q -f "$ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp" >"$LOCAL/logs/maven.log" 2>&1 ||
    die "Maven failed; see $LOCAL/logs/maven.log"
  rm -rf "$KAFKA_LIB"
  mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
  touch "$KAFKA_LIB/.complete"
}

install_mongo() {
  local src=$ROOT/deploy/mongo
  if [[ -f $MONGO_LIB/.complete ]] &&
    [[ -z $(find "$src/pom.xml" "$src/src" -newer "$MONGO_LIB/.complete" -print -quit) ]]; then
    return
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to build the database"
  command -v java >/dev/null || die "Java 17+ is needed to run the database"
  log "building the database (mongo-java-server launcher) with Maven into $MONGO_LIB"
  rm -rf "$MONGO_LIB.tmp" "$MONGO_HOME/build"
  mkdir -p "$MONGO_HOME" "$LOCAL/logs"
  mvn -B -q -f "$src/pom.xml" package dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$MONGO_LIB.tmp" -Dbuild.dir="$MONGO_HOME/build" >"$LOCAL/logs/maven-mongo.log" 2>&1 ||
    die "Maven failed; see $LOCAL/logs/maven-mongo.log"
  cp "$MONGO_HOME"/build/local-mongo-*.jar "$MONGO_LIB.tmp/"
  rm -rf "$MONGO_LIB"
  mv "$MONGO_LIB.tmp" "$MONGO_LIB"
  touch "$MONGO_LIB/.complete"
}

wait_for() { # name, pid file, port, log file, ready pattern (empty: the open port is enough)
  local name=$1 pidfile=$2 port=$3 logfile=$4 pattern=$5
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    alive "$pidfile" || die "$name exited during start-up; see $logfile"
    if port_open "$port" && { [[ -z $pattern ]] || grep -q "$pattern" "$logfile" 2>/dev/null; }; then
      return
    fi
    sleep 0.5
  done
  die "$name did not become ready on port $port within ${START_TIMEOUT}s; see $logfile"
}

start_kafka() {
  if alive "$KAFKA_PID"; then log "Kafka already running on 127.0.0.1:$KAFKA_PORT"; return; fi
  local port_var=LOCAL_KAFKA_PORT
  [[ -n $INSTANCE ]] && port_var="LOCAL_${INSTANCE^^}_KAFKA_PORT"
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (set $port_var)"
  port_open "$KAFKA_SCRAM_PORT" && die "port $KAFKA_SCRAM_PORT is taken by another process (set ${port_var/_PORT/_SCRAM_PORT})"
  if [[ -f $KAFKA_DATA/meta.properties && ! -f $SCRAM_MARK ]]; then
    if [[ -n $INSTANCE ]]; then
      log "Kafka ($INSTANCE): storage predates the SCRAM user; formatting it anew"
      rm -rf "$KAFKA_DATA"
    else
      log "warning: Kafka's storage predates the SCRAM listener's user ($SCRAM_USER): SCRAM logins" \
        "fail until it is formatted anew (services-down, then remove $KAFKA_DATA)"
    fi
  fi
  mkdir -p "$KAFKA_DATA" "$LOCAL/logs" "$LOCAL/run"
  local conf=$KAFKA_STATE/server.properties
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@SCRAM_PORT@|$KAFKA_SCRAM_PORT|g" \
    -e "s|@DATA_DIR@|$KAFKA_DATA|g" "$ROOT/deploy/kafka/server.properties.in" >"$conf"
  local java_opts=(-Xms256m -Xmx1g -XX:+UseG1GC "-Dlog4j2.configurationFile=$ROOT/deploy/kafka/log4j2.properties"
    "-Dkafka.logfile=$KAFKA_LOG")
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    local cluster_id
    cluster_id=$(java -cp "$KAFKA_LIB/*" "${java_opts[@]}" kafka.tools.StorageTool random-uuid)
    java -cp "$KAFKA_LIB/*" "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" -g \
      --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
      >>"$LOCAL/logs/$KAFKA_NAME-format.log" 2>&1 || die "formatting Kafka's storage failed; see $LOCAL/logs/$KAFKA_NAME-format.log"
    echo "$SCRAM_USER" >"$SCRAM_MARK"
  fi
  : >"$KAFKA_LOG"
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_LOG)"
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIB/*" kafka.Kafka "$conf" >"$LOCAL/logs/$KAFKA_NAME.out" 2>&1 &
  echo $! >"$KAFKA_PID"
  wait_for Kafka "$KAFKA_PID" "$KAFKA_PORT" "$KAFKA_LOG" "Kafka Server started"
}

start_mongo() {
  local name="the database${MONGO_INSTANCE:+ ($MONGO_INSTANCE)}"
  if alive "$MONGO_PID"; then log "$name already running on 127.0.0.1:$MONGO_PORT"; return; fi
  local port_var=LOCAL_MONGO_PORT
  [[ -n $MONGO_INSTANCE ]] && port_var="LOCAL_${MONGO_INSTANCE^^}_MONGO_PORT"
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by another process (set $port_var)"
  mkdir -p "$MONGO_DATA" "$LOCAL/logs" "$LOCAL/run"
  : >"$MONGO_LOG"
  log "starting $name on 127.0.0.1:$MONGO_PORT (data: $MONGO_DATA, log: $MONGO_LOG)"
  nohup java -Xms64m -Xmx2g -XX:+UseG1GC "-Dorg.slf4j.simpleLogger.logFile=$MONGO_LOG" \
    -cp "$MONGO_LIB/*" local.tiktokshop.mongo.LocalMongo --host=127.0.0.1 --port="$MONGO_PORT" \
    --data="$MONGO_DATA" --cache-mb="$MONGO_CACHE_MB" >"$LOCAL/logs/$MONGO_NAME.out" 2>&1 &
  echo $! >"$MONGO_PID"
  wait_for "$name" "$MONGO_PID" "$MONGO_PORT" "$MONGO_LOG" "ready on"
}

stop() { # name, pid file
  local name=$1 pidfile=$2
  if ! alive "$pidfile"; then rm -f "$pidfile"; return; fi
  local pid
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 30s; killing it"; kill -9 "$pid"; }
  rm -f "$pidfile"
}

crash() { # name, pid file: SIGKILL, as a crash or an OOM killer would, and wait until it is gone
  local name=$1 pidfile=$2
  if ! alive "$pidfile"; then rm -f "$pidfile"; return; fi
  local pid
  pid=$(cat "$pidfile")
  log "killing $name (pid $pid) with SIGKILL"
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$pidfile"
}

print_scram_env() { # the service's settings for the SCRAM listener
  echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_SCRAM_PORT"
  echo "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"
  echo "KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
  echo "KAFKA_SASL_USERNAME=$SCRAM_USER"
  echo "KAFKA_SASL_PASSWORD=$SCRAM_PASSWORD"
}

print_env() {
  echo "KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
  echo "MONGODB_URI=${MONGODB_URI:-mongodb://127.0.0.1:$MONGO_PORT/}"
}

if [[ -n $MONGO_INSTANCE ]]; then
  case ${1:-} in
    install) install_mongo ;;
    up) install_mongo; start_mongo ;;
    down) stop "the database ($MONGO_INSTANCE)" "$MONGO_PID" ;;
    kill) crash "the database ($MONGO_INSTANCE)" "$MONGO_PID" ;;
    purge)
      stop "the database ($MONGO_INSTANCE)" "$MONGO_PID"
      rm -rf "$LOCAL/$MONGO_NAME" "$MONGO_LOG" "$LOCAL/logs/$MONGO_NAME.out"
      ;;
    status)
      if alive "$MONGO_PID"; then echo "database ($MONGO_INSTANCE): running on 127.0.0.1:$MONGO_PORT"
      else echo "database ($MONGO_INSTANCE): stopped"; fi
      ;;
    env) echo "MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/" ;;
    *) echo "usage: MONGO_INSTANCE=$MONGO_INSTANCE $0 install|up|down|kill|purge|status|env" >&2; exit 2 ;;
  esac
  exit 0
fi

if [[ -n $INSTANCE ]]; then
  case ${1:-} in
    install) install_kafka ;;
    up) install_kafka; start_kafka ;;
    down) stop "Kafka ($INSTANCE)" "$KAFKA_PID" ;;
    kill) crash "Kafka ($INSTANCE)" "$KAFKA_PID" ;;
    purge)
      stop "Kafka ($INSTANCE)" "$KAFKA_PID"
      rm -rf "$KAFKA_STATE" "$KAFKA_LOG" "$LOCAL/logs/$KAFKA_NAME.out" "$LOCAL/logs/$KAFKA_NAME-format.log"
      ;;
    status)
      if alive "$KAFKA_PID"; then echo "kafka ($INSTANCE): running on 127.0.0.1:$KAFKA_PORT"
      else echo "kafka ($INSTANCE): stopped"; fi
      ;;
    env) echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT" ;;
    scram-env) print_scram_env ;;
    *) echo "usage: KAFKA_INSTANCE=$INSTANCE $0 install|up|down|kill|purge|status|env|scram-env" >&2; exit 2 ;;
  esac
  exit 0
fi

case ${1:-} in
  install)
    external_kafka || install_kafka
    external_mongo || install_mongo
    ;;
  up)
    external_kafka || { install_kafka; start_kafka; }
    external_mongo || { install_mongo; start_mongo; }
    if external_kafka; then log "using the given Kafka at $KAFKA_BOOTSTRAP_SERVERS"; fi
    if external_mongo; then log "using the given database at MONGODB_URI"; fi
    ;;
  down)
    stop Kafka "$KAFKA_PID"
    stop "the database" "$MONGO_PID"
    ;;
  status)
    if alive "$KAFKA_PID"; then echo "kafka: running on 127.0.0.1:$KAFKA_PORT"; else echo "kafka: stopped"; fi
    if alive "$MONGO_PID"; then echo "database: running on 127.0.0.1:$MONGO_PORT"; else echo "database: stopped"; fi
    ;;
  env) print_env ;;
  scram-env) print_scram_env ;;
  *) echo "usage: $0 install|up|down|status|env|scram-env" >&2; exit 2 ;;
esac
