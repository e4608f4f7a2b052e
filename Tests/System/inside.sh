#!/bin/bash
# Runs inside the test container, on a real systemd as PID 1: installs the .deb and checks
# the product as an admin and an app would. Prints CHECK OK/FAIL lines and a final
# SYSTEM-RESULT line.
set -u
fail=0
check() { if eval "$2"; then echo "CHECK OK:   $1"; else echo "CHECK FAIL: $1"; fail=1; fi; }
wait_for() { local i; for ((i = 0; i < ${2:-100}; i++)); do eval "$1" && return 0; sleep 0.1; done; return 1; }
http_get() { exec 3<>/dev/tcp/127.0.0.1/8080 || return 1; printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3; cat <&3; exec 3>&-; }
export DEBIAN_FRONTEND=noninteractive
APP=com.example.weather
CURRENT=/var/lib/miniupdate/apps/$APP/current

echo "=== system: PID1=$(cat /proc/1/comm) $(systemctl --version | head -1) state=$(systemctl is-system-running)"

echo "=== 1. apt install ./miniupdate.deb"
apt-get install -y /payload/miniupdate.deb >/tmp/apt-install.log 2>&1
check "package installed" 'dpkg -s miniupdate | grep -q "Status: install ok installed"'
check "user and group created" 'getent passwd miniupdate >/dev/null && getent group miniupdate >/dev/null'
check "socket enabled and listening" 'systemctl -q is-enabled miniupdated.socket && systemctl -q is-active miniupdated.socket'
check "timer enabled and listed" 'systemctl -q is-enabled miniupdate-refresh.timer && systemctl list-timers --all --no-pager | grep -q miniupdate-refresh.timer'
check "socket is root:miniupdate 0660" '[ "$(stat -c %U:%G:%a /run/miniupdate/miniupdate.sock)" = root:miniupdate:660 ]'
check "daemon inactive before any client" '! systemctl -q is-active miniupdated.service'
verify=$(systemd-analyze verify miniupdated.service miniupdated.socket miniupdate-refresh.service miniupdate-refresh.timer 2>&1)
check "systemd-analyze verify reports nothing" '[ -z "$verify" ]'
[ -z "$verify" ] || echo "$verify"
exposure=$(systemd-analyze security miniupdated.service --no-pager 2>&1 | sed -n 's/.*Overall exposure level for miniupdated.service: \([0-9.]*\).*/\1/p')
echo "security exposure: $exposure"
check "systemd-analyze security exposure <= 2.0" 'awk -v e="$exposure" "BEGIN{exit !(e != \"\" && e <= 2.0)}"'

echo "=== 2. a repository served by nginx"
mkdir -p /srv/src/v1 /srv/src/v2
echo "weather 1.0.0" >/srv/src/v1/index.html
echo "weather 1.1.0" >/srv/src/v2/index.html
miniupdate-repo keygen --output /root/publisher.key >/dev/null
miniupdate-repo publish /srv/repo --key /root/publisher.key --app $APP --version 1.0.0 --from /srv/src/v1 >/dev/null
install -m644 /root/publisher.key.pub /etc/miniupdate/keys/publisher.pub
cat >/etc/nginx/sites-enabled/default <<'NGINX'
server { listen 127.0.0.1:8080; root /srv; location / { } }
NGINX
systemctl restart nginx
check "nginx serves the index" 'wait_for "http_get /repo/index.signed | grep -q miniupdate-index-v1" 50'
cat >/etc/miniupdate/miniupdate.conf <<CONF
repository = http://127.0.0.1:8080/repo
trusted-key = /etc/miniupdate/keys/publisher.pub
CONF

echo "=== 3. socket activation and status"
out=$(miniupdatectl status 2>&1); echo "$out" | head -3
check "the first client socket-activates the daemon" 'wait_for "systemctl -q is-active miniupdated.service"'
st=$(systemctl status miniupdated --no-pager -l 2>&1); echo "$st" | head -12
check "systemctl status: active (running)" 'grep -q "active (running)" <<<"$st"'
check "systemctl status: STATUS text" 'grep -q "Status: \"" <<<"$st"'

echo "=== 4. an app's update: check, ready, apply"
out=$(miniupdatectl install $APP 2>&1); echo "$out"
check "install 1.0.0" '[ "$(readlink $CURRENT)" = versions/1.0.0 ]'
miniupdatectl watch $APP --json >/tmp/watch.log 2>&1 &
WATCH=$!
sleep 1
miniupdate-repo publish /srv/repo --key /root/publisher.key --app $APP --version 1.1.0 --from /srv/src/v2 >/dev/null
miniupdatectl check $APP
check "client got onUpdateReady" 'wait_for "grep -q onUpdateReady /tmp/watch.log" 100'
check "onCheckForUpdate came before onUpdateReady" '[ "$(grep -n "\"hasUpdate\":true" /tmp/watch.log | head -1 | cut -d: -f1)" -lt "$(grep -n onUpdateReady /tmp/watch.log | head -1 | cut -d: -f1)" ]'
miniupdatectl apply $APP
check "applyUpdate switched the app" '[ "$(readlink $CURRENT)" = versions/1.1.0 ] && grep -q "weather 1.1.0" $CURRENT/index.html'
check "client got onUpdateApplied" 'wait_for "grep -q onUpdateApplied /tmp/watch.log"'
sleep 0.5
j=$(journalctl -u miniupdated MINIUPDATE_APP=$APP --no-pager 2>&1); echo "$j" | tail -4
check "journalctl -u miniupdated MINIUPDATE_APP=$APP shows its events" 'grep -q "update ready" <<<"$j" && grep -q "update applied" <<<"$j"'
check "journalctl MESSAGE_ID=<update-applied> finds it" '[ -n "$(journalctl MESSAGE_ID=5b1d9f3e7a2c4b68c0e4a6d8f1b3c529 --no-pager -q)" ]'
check "entries carry CODE_FILE and priority" 'journalctl -u miniupdated MINIUPDATE_APP=$APP -o verbose --no-pager | grep -q "CODE_FILE=" '

echo "=== 5. an upgrade restarts the daemon and keeps the state"
kill $WATCH 2>/dev/null
before=$(systemctl show -P MainPID miniupdated)
dpkg -i /payload/miniupdate.deb >/tmp/upgrade.log 2>&1
check "upgrade restarted the daemon" 'wait_for "systemctl -q is-active miniupdated && [ \"\$(systemctl show -P MainPID miniupdated)\" != $before ]" 100'
check "upgrade kept the installed app" '[ "$(readlink $CURRENT)" = versions/1.1.0 ] && miniupdatectl status --json | grep -q "\"installedVersion\" : \"1.1.0\""'
miniupdatectl watch $APP --json >/tmp/watch.log 2>&1 &
WATCH=$!
sleep 1

echo "=== 6. reload keeps clients"
pid=$(systemctl show -P MainPID miniupdated)
systemctl reload miniupdated
check "reload finished, same process" '[ "$(systemctl show -P MainPID miniupdated)" = "$pid" ] && systemctl -q is-active miniupdated'
miniupdatectl simulate $APP --no-update >/dev/null
check "the watching client is still connected and served" 'kill -0 $WATCH && wait_for "grep -q \"hasUpdate\\\":false\" /tmp/watch.log"'
kill $WATCH 2>/dev/null

echo "=== 6b. an idle daemon sleeps"
# Wakeups of each thread, from /proc: the .deb's binaries link the Swift runtime statically,
# and if its tasks fell back to libdispatch's pool, one thread would wake every second.
switches() { for t in /proc/$1/task/*; do echo "${t##*/} $(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")"; done; }
pid=$(systemctl show -P MainPID miniupdated)
sleep 3  # the last status refresh, memory release and repository connection close
switches "$pid" >/tmp/switches.0; sleep 6; switches "$pid" >/tmp/switches.1
busiest=$(awk 'NR == FNR {before[$1] = $2; next} {d = $2 - before[$1]; if (d > most) most = d} END {print most + 0}' /tmp/switches.0 /tmp/switches.1)
echo "most wakeups of one thread in 6 s idle: $busiest"
check "an idle daemon does not wake every second (at most one watchdog ping in 6 s)" '[ "$busiest" -le 2 ]'
check "tasks run on the event loops (no executor warning)" '! journalctl -u miniupdated --no-pager | grep -q "executor hook was not found"'

echo "=== 7. access by group"
useradd -m -G miniupdate member; useradd -m stranger
check "a member of miniupdate can run miniupdatectl status" 'runuser -u member -- miniupdatectl status >/dev/null'
out=$(runuser -u stranger -- miniupdatectl status 2>&1); code=$?
echo "stranger: $out (exit $code)"
check "another user is refused" '[ $code -ne 0 ] && grep -qi "permission denied" <<<"$out"'

echo "=== 7b. access by method: SO_PEERCRED, admin-group, app-owner"
groupadd mu-admins
useradd -m -G miniupdate,mu-admins admin; useradd -m -G miniupdate appowner
cat >>/etc/miniupdate/miniupdate.conf <<CONF
admin-group = mu-admins
app-owner.$APP = appowner
CONF
systemctl reload miniupdated
out=$(runuser -u member -- miniupdatectl check $APP 2>&1); code=$?; echo "member check: $out"
check "a member may not check (not permitted)" '[ $code -ne 0 ] && grep -q "not permitted" <<<"$out"'
out=$(runuser -u member -- miniupdatectl apply $APP 2>&1); code=$?
check "a member may not apply" '[ $code -ne 0 ] && grep -q "not permitted" <<<"$out"'
member_uid=$(id -u member)
check "the refusal is logged with the peer's uid and pid" 'wait_for "journalctl -u miniupdated MINIUPDATE_PEER_UID=$member_uid --no-pager -q -o verbose | grep -q MINIUPDATE_PEER_PID=" 30'
out=$(runuser -u admin -- miniupdatectl check $APP 2>&1); code=$?; echo "admin check: $out"
check "a member of admin-group may check" '[ $code -eq 0 ]'
out=$(runuser -u appowner -- miniupdatectl apply $APP 2>&1); echo "owner apply: $out"
check "the app's owner may apply its own app" '! grep -q "not permitted" <<<"$out"'
out=$(runuser -u appowner -- miniupdatectl apply com.example.other 2>&1); code=$?
check "the app's owner may not apply another app" '[ $code -ne 0 ] && grep -q "not permitted" <<<"$out"'
out=$(runuser -u appowner -- miniupdatectl rollback $APP 2>&1); code=$?
check "the app's owner may not roll back" '[ $code -ne 0 ] && grep -q "not permitted" <<<"$out"'
check "root may do everything" 'miniupdatectl check $APP >/dev/null'

echo "=== 8. the watchdog restarts a frozen daemon"
mkdir -p /etc/systemd/system/miniupdated.service.d
printf '[Service]\nWatchdogSec=3s\n' >/etc/systemd/system/miniupdated.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart miniupdated
sleep 4
check "the restart read the start-up snapshot, not every app" 'journalctl -u miniupdated --no-pager | grep -qE "[1-9][0-9]* from the start-up snapshot, 0 read from disk"'
check "no watchdog restart while healthy" '[ "$(systemctl show -P NRestarts miniupdated)" = 0 ] && systemctl -q is-active miniupdated'
frozen=$(systemctl show -P MainPID miniupdated)
kill -STOP "$frozen"
check "frozen daemon restarted by the watchdog" 'wait_for "[ \"\$(systemctl show -P NRestarts miniupdated)\" -ge 1 ] && systemctl -q is-active miniupdated && [ \"\$(systemctl show -P MainPID miniupdated)\" != $frozen ]" 200'
journalctl -u miniupdated --no-pager | grep -i watchdog | tail -2
rm -rf /etc/systemd/system/miniupdated.service.d; systemctl daemon-reload

echo "=== 9. stop is clean"
systemctl stop miniupdated
check "systemctl stop: inactive, result success" '! systemctl -q is-active miniupdated && [ "$(systemctl show -P Result miniupdated)" = success ]'
check "a clean stop leaves the start-up snapshot" 'test -s /var/lib/miniupdate/snapshot.json'

echo "=== 10. remove keeps the state, purge deletes it"
apt-get remove -y miniupdate >/tmp/apt-remove.log 2>&1
check "apt remove keeps /var/lib/miniupdate" '[ -d /var/lib/miniupdate/apps/$APP/versions/1.1.0 ]'
check "apt remove stops the socket" '! systemctl -q is-active miniupdated.socket'
apt-get purge -y miniupdate >/tmp/apt-purge.log 2>&1
check "apt purge deletes state and cache" '[ ! -e /var/lib/miniupdate ] && [ ! -e /var/cache/miniupdate ]'

[ $fail = 0 ] && echo "SYSTEM-RESULT: PASS" || echo "SYSTEM-RESULT: FAIL"
exit $fail
