#ifndef MINIUPDATE_CSYSTEMD_SHIM_H
#define MINIUPDATE_CSYSTEMD_SHIM_H
/* libsystemd, through Debian's libsystemd-dev. The variadic sd_notifyf and
 * sd_journal_send do not import into Swift; the daemon uses sd_notify and
 * sd_journal_sendv instead. */
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#endif
