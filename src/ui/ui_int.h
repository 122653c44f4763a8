/* ui_int.h: the workstation's shared state, private to src/ui/ (ui.c, ui_pane.c, ui_keys.c). */
#ifndef ESPDESK_UI_INT_H
#define ESPDESK_UI_INT_H

#include <stdint.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "profile/profile.h"
#include "serial/ser.h"
#include "bootlog/baudsw.h"
#include "ui/logbuf.h"
#include "ui/ui.h"
#include "ui/ui_demo.h"
#include "ui/ui_job.h"

struct ui_rect {
	int x, y, w, h;
};

/* Result bits of a key handler (htop's HandlerResult). */
enum ui_result {
	UI_IGNORED = 0,
	UI_HANDLED = 0x1,
	UI_REDRAW = 0x2,
	UI_QUIT = 0x4,
};

struct ui;

/* A pane: draws itself inside a rect; the loop decides where. */
struct ui_pane_ops {
	const char *name;
	void (*draw)(struct ui *u, const struct ui_rect *r);
};

extern const struct ui_pane_ops ui_pane_log, ui_pane_device, ui_pane_diag, ui_pane_job;

/* Colour roles; ui_pane.c maps them to pairs or, in monochrome, to attributes. */
enum ui_colour {
	UIC_NORMAL, UIC_BORDER, UIC_TITLE, UIC_RX, UIC_GARBAGE, UIC_BOOT, UIC_CRASH, UIC_NOTE,
	UIC_ANNOT, UIC_STAMP, UIC_GOOD, UIC_BAD, UIC_WARN, UIC_KEY, UIC_KEYLABEL, UIC_PROGRESS,
	UIC_SELECT, UIC_COUNT
};

enum ui_dev_state {
	UI_ST_UNKNOWN, UI_ST_APP, UI_ST_ROM, UI_ST_DOWNLOAD, UI_ST_STUB, UI_ST_JOB,
	UI_ST_DISCONNECTED
};

enum ui_prompt_kind { UI_PR_NONE, UI_PR_SEARCH, UI_PR_BACKUP, UI_PR_WRITE, UI_PR_SAVE,
	UI_PR_CONFIRM,
	UI_PR_FLOW_FILE,      /* guided flash: the firmware file */
	UI_PR_FLOW_ASK,       /* the running flow asks: y / any other key */
	UI_PR_FLOW_TYPED,     /* the running flow asks something that risks the only backup: type yes */
	UI_PR_RESUME,         /* at start-up: resume the unfinished flow? y / any other key */
	UI_PR_PICK            /* guided restore: pick a backup from the store's list */
};

/* One line of the restore picker: a backup in the store (a copy; nothing borrowed). */
struct ui_pick {
	char id[96];
	char line[240];       /* device, date, size, family, profile, whose, verified */
	int same;             /* 1 this device, 0 another unit, -1 not known yet */
};

struct ui {
	struct ui_opts o;
	char port[512];
	struct ser *ser;
	enum ui_dev_state state;
	int64_t reconnect_at;         /* next reconnect attempt (ms), 0 none */
	int64_t rts_release_at;       /* Reset: when to let EN go again (ms), 0 none */
	char gone_why[256];
	int usb_vid, usb_pid;         /* the adapter's identity, -1 when not USB */
	char usb_serial[128];
	const char *bridge;           /* static */
	char adapter[160];

	struct logbuf *log;
	struct bootlog dec;
	struct bootlog_diag diag;
	struct bootlog_verdict verdict;
	int verdict_stale;
	struct baudsw sw;
	int64_t last_rx_ms;
	uint64_t rx_bytes;

	int stamps, hex, icase;
	char search[256];
	long found;                   /* index of the last search hit, -1 none */

	struct profile_set *profiles;
	const struct profile *profile;
	char **contra;
	size_t ncontra;

	int have_info;
	struct flasher_info info;
	uint32_t flash_size;

	struct ui_job job;
	int job_active;               /* a job owns the port */
	int job_shown;                /* the job pane shows (until dismissed with Esc) */
	struct ui_job_status js;
	int64_t job_start_ms;
	enum ui_job_op pending_op;    /* the op a prompt or confirmation will start */
	char pending_path[1024];

	enum ui_prompt_kind prompt;
	char prompt_label[200];
	char prompt_buf[1024];
	size_t prompt_len;
	char confirm_text[900];
	char confirm_detail[600];     /* a flow question's detail (what it means), or "" */
	char flow_name[16];           /* the flow a flow job runs ("" none yet) */
	char pend_flow[16];           /* a flow asked for while an unfinished one is offered */
	char pend_path[1024];
	char pend_backup[96];

	/* The restore picker (UI_PR_PICK): the store's backups, newest first. */
	struct ui_pick *picks;
	size_t npicks, pick_sel, pick_top;
	char pick_note[300];          /* an empty store says so here */

	/* A flow's boot watch shown in place: its bytes reach the log pane through the job. */
	unsigned watch_seq;           /* the job's last watch_seq acted upon */
	int watching;                 /* the flow's boot watch owns what the log pane shows */
	int watch_baud;               /* the baud its last bytes were read at */
	int reopen_baud;              /* open the port at this baud once (0: the ROM's) */
	int demo_hands_off;           /* demo: the user presses GPIO0 and power (g, P) */

	char status[400];             /* one-line message above the key bar */
	int status_bad;

	int help;                     /* the help screen shows */
	int help_top;                 /* its first entry shown (scrolled on a short screen) */
	int utf8, colours, mono;
	int dirty;
	int64_t last_draw_ms;
	uint64_t frames;
	int quit;

	struct ui_demo demo;
};

/* ui_pane.c */
void ui_colour_init(struct ui *u);
int ui_attr(enum ui_colour c);
/* Writes s at (y, x), at most maxcols columns (UTF-8 aware); returns the columns used. */
int ui_put(int y, int x, const char *s, int maxcols, int attr);
void ui_box(struct ui *u, const struct ui_rect *r, const char *title, int focus);
void ui_draw_all(struct ui *u);
/* Entries the help screen lists (demo keys only in --demo). */
int ui_help_entries(const struct ui *u);
const char *ui_state_name(enum ui_dev_state st);

/* ui_keys.c: the key table. */
enum ui_action {
	UA_HELP, UA_QUIT, UA_IDENTIFY, UA_BACKUP, UA_WRITE, UA_ERASE, UA_RESET, UA_CANCEL,
	UA_FLOW_BACKUP, UA_FLOW_FLASH, UA_FLOW_RESTORE,
	UA_SEARCH, UA_NEXT, UA_PREV, UA_STAMPS, UA_HEX, UA_SAVE, UA_CLEAR, UA_PIN, UA_BAUD,
	UA_UP, UA_DOWN, UA_PGUP, UA_PGDN, UA_HOME, UA_END,
	UA_DEMO_GPIO0, UA_DEMO_POWER, UA_DEMO_HEALTHY, UA_DEMO_EXC, UA_DEMO_WDT,
	UA_DEMO_FLASHMODE, UA_DEMO_RF, UA_DEMO_UNPLUG, UA_DEMO_HANDS
};
struct ui_key {
	int key;              /* curses key code or character */
	const char *name;     /* as the help screen shows it */
	enum ui_action act;
	const char *help;
	const char *bar;      /* label on the key bar, or NULL */
	int demo;             /* only in --demo */
};
extern const struct ui_key ui_keys[];
extern const size_t ui_nkeys;

#endif
