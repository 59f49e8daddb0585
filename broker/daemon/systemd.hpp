#pragma once
// The broker as a systemd service (Type=notify): readiness, reloads, stops and watchdog pings go
// to the service manager over $NOTIFY_SOCKET. Started by anything else, every call does nothing.

#include <chrono>
#include <string>

namespace zpat::broker::daemon::systemd {

// READY=1, with a one-line status for `systemctl status`.
void ready(const std::string& status);
// RELOADING=1 while SIGHUP is handled; ready() again when done.
void reloading();
// STOPPING=1, once a stop has begun.
void stopping();

// How often watchdog() is due (half the unit's WatchdogSec), or zero when there is no watchdog.
std::chrono::milliseconds watchdog_interval();
// WATCHDOG=1: the broker is alive and every device runs.
void watchdog();

// Whether stderr is the journal's stream (systemd sets $JOURNAL_STREAM to its device and inode),
// where each line may start with its syslog priority and needs no timestamp.
bool stderr_is_journal();

}  // namespace zpat::broker::daemon::systemd
