#ifndef MINIUPDATE_CARCHIVE_SHIM_H
#define MINIUPDATE_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
