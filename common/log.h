/*
 * common/log.h: the daemons' log on stderr, one line per event:
 *   2026-11-25T15:04:05Z minpaas-sshd[123] info: message
 * Logging and signal flags are the only globals minpaas has.
 */
#ifndef MINPAAS_LOG_H
#define MINPAAS_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Names the program in each line and sets the least level printed. */
void log_init(const char *progname, enum log_level min);

/* One line at level lvl (printf format), when lvl is at least the level
 * set by log_init; the log_* macros below name the level. */
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
