/*
 * profile.h: device profiles, one YAML file per model (profiles/NAME.yaml, doc/profiles.md).
 *
 * Principles of operation. A profile says what a model is (chip, flash, write mode), how to get
 * it into the ROM loader with the board in hand, what can hurt the person doing it (mains-live
 * ground), and what the stock firmware keeps where. profile_yaml.c turns one file into a
 * struct profile (only it includes yaml.h); profile_set.c loads directories in precedence order,
 * reports broken files and skips them without stopping the others; profile_match.c ranks the
 * profiles that fit what the flasher detected and says where the hardware contradicts one.
 * Where sources disagree a profile keeps every claim (chip_claims, jedec entries marked
 * inferred) and the detected hardware decides.
 *
 * Ownership. Every string and array in a struct profile belongs to it and is freed by
 * profile_free(). A struct profile_set owns its profiles and its messages; free it with
 * profile_set_free(). Nothing here prints or exits: errors come back as messages that start
 * with "file:line:col: " and say what was expected.
 */
#ifndef ESPDESK_PROFILE_H
#define ESPDESK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

enum profile_chip {
	PROFILE_CHIP_ESP8266,      /* "esp8266": ESP8266EX with external SPI flash */
	PROFILE_CHIP_ESP8285,      /* "esp8285": ESP8266 core with embedded flash */
	PROFILE_CHIP_EITHER,       /* "esp8266-or-esp8285": revisions or sources differ */
	PROFILE_CHIP_NOT_ESP8266,  /* "not-esp8266": espdesk cannot flash it; see real_chip */
};

enum profile_kind { PROFILE_KIND_DEVICE, PROFILE_KIND_GENERIC };

/* SPI flash modes, numbered as in the image header byte 2 (protocol.md §12.1). */
enum profile_mode { PROFILE_MODE_QIO = 0, PROFILE_MODE_QOUT = 1, PROFILE_MODE_DIO = 2, PROFILE_MODE_DOUT = 3 };

/* One source's claim about the chip. */
struct profile_claim {
	enum profile_chip chip;
	char *source;    /* never NULL */
	char *note;      /* may be NULL */
	int inferred;    /* a reading of a source, not a statement in it */
};

/* A JEDEC id reported for this model (JEDEC byte order, jedec.h). */
struct profile_jedec {
	uint32_t id;
	char *part;      /* may be NULL */
	char *source;    /* never NULL */
	char *note;      /* may be NULL */
	int inferred;
};

/* One region of the stock firmware's flash map. Regions may overlap when a source places one
 * inside another (stock Wi-Fi credentials inside the user1 slot). */
struct profile_region {
	char *name;
	uint32_t offset, size;
	char *note;      /* may be NULL */
};

struct profile_gpio {
	int pin;         /* 0..16 */
	char *use;
};

struct profile {
	char *name;              /* lower-case id, [a-z0-9][a-z0-9.-]* */
	char *title;             /* "Sonoff Pow R2" */
	char **aliases;          /* matched case-insensitively, like name */
	size_t naliases;
	char *vendor;
	enum profile_kind kind;
	char *revisions;         /* which board revisions the file covers; may be NULL */

	enum profile_chip chip;
	char *chip_note;         /* may be NULL */
	struct profile_claim *claims;
	size_t nclaims;
	char *real_chip;         /* not-esp8266 only: "ESP32-C3" */
	int locked;              /* not-esp8266 only: secure boot / encryption, nobody can flash it */

	/* flash: (ESP8266-family profiles) */
	uint32_t *sizes;         /* physical sizes seen, bytes, powers of two; none = unknown */
	size_t nsizes;
	uint32_t firmware_size;  /* size the stock firmware's header and map use; 0 = unknown */
	enum profile_mode mode;  /* the mode to write */
	char *mode_reason;
	int freq_mhz;            /* 80, 40, 26 or 20 */
	struct profile_jedec *jedec;
	size_t njedec;
	char *flash_note;        /* may be NULL */

	char **header_pins;      /* programming header, in the order the source states */
	size_t nheader_pins;
	char *header_note;       /* may be NULL */
	char *download_mode;     /* how to hold GPIO0 low at power-up, for a person */
	char *download_hint;     /* at most ~30 characters for tables; may be NULL */

	int mains_live;          /* board ground is tied to mains live */
	char **warnings;
	size_t nwarnings;

	uint32_t map_size;       /* the map's flash size; 0 when there is no map */
	char *map_layout;        /* "512+512 OTA (SDK map 2)" */
	struct profile_region *regions;
	size_t nregions;

	struct profile_gpio *gpios;
	size_t ngpios;
	char **notes;
	size_t nnotes;
	char **sources;          /* at least one */
	size_t nsources;

	char *path;              /* the file it came from */
	int line;                /* line of the document's first key */
	int name_line, name_col; /* where the name and each alias are written, for messages */
	int *alias_line, *alias_col;
	char *overrides;         /* path of the same-named profile this one replaced, or NULL */
	size_t origin;           /* index of the search-path entry it came from (0 = highest) */
};

void profile_free(struct profile *p);

/* Lower-case names used in YAML and output. Never NULL. */
const char *profile_chip_str(enum profile_chip c);
const char *profile_mode_str(enum profile_mode m);   /* "dout" */
const char *profile_kind_str(enum profile_kind k);

/*
 * Parses one profile from a YAML buffer. `path` names it in messages (its basename is shown
 * as written). On success returns RC_OK and *out (caller frees with profile_free()). On failure
 * returns RC_ERR_FORMAT, *out = NULL, and appends one message per problem to *errs (count in *nerrs)
 * (heap strings "path:line:col: what, expected what"; the caller frees each and the array).
 */
int profile_parse(const char *path, const void *data, size_t len, struct profile **out,
    char ***errs, size_t *nerrs);
/* Reads and parses a file. RC_ERR_IO (message says why) when it cannot be read. */
int profile_parse_file(const char *path, struct profile **out, char ***errs, size_t *nerrs);

/* Edit distance (Levenshtein) between two short strings; used for "did you mean". */
size_t profile_edit_distance(const char *a, const char *b);

/* ---- sets of profiles (profile_set.c) ---- */

struct profile_set {
	struct profile **v;      /* sorted by name */
	size_t n;
	char **errors;           /* one per problem; the files they name were skipped */
	size_t nerrors;
	char **dirs;             /* the directories searched, highest precedence first */
	size_t ndirs;
};

/*
 * The search path, highest precedence first, as a NULL-terminated array of heap strings
 * (caller frees each and the array). ESPDESK_PROFILE_PATH (colon-separated) replaces it when
 * set; otherwise $XDG_CONFIG_HOME/espdesk/profiles (default ~/.config/...), then the installed
 * ESPDESK_DATADIR/profiles, or instead of that the source tree's profiles/ when `uninstalled`.
 */
char **profile_search_path(int uninstalled);
/* True when the running program is inside the build tree (not installed). */
int profile_running_uninstalled(void);

/*
 * Loads every *.yaml / *.yml file under the given entries (directories, or single files),
 * listed highest precedence first. Entries are read lowest precedence first, each directory in
 * strcmp order of file names, and a later profile with the same name replaces an earlier one
 * (p->overrides says which). A missing directory is not an error. A file that fails to parse,
 * a duplicate name inside one directory, or a name/alias clash with another profile is reported
 * in set->errors and that file is skipped. Always returns a set (caller frees).
 */
struct profile_set *profile_set_load(char *const *entries, size_t nentries);
/* profile_set_load() over profile_search_path(profile_running_uninstalled()): what the CLI,
 * the flows and the UI use. */
struct profile_set *profile_set_load_default(void);
void profile_set_free(struct profile_set *s);
/* Finds a profile by name or alias, case-insensitively. Borrowed; NULL when none. */
const struct profile *profile_set_find(const struct profile_set *s, const char *name);
/* Best-guess names for an unknown name (edit distance <= 3), up to max; returns how many. */
size_t profile_set_suggest(const struct profile_set *s, const char *name, const char **out, size_t max);

/* ---- matching (profile_match.c) ---- */

/* What the flasher found. Unknown fields stay zero. */
struct profile_detected {
	int chip_known;          /* 1 when `esp8285` is meaningful */
	int esp8285;             /* efuse ESP8285 flag (protocol.md §8.4) */
	uint32_t jedec;          /* JEDEC order; 0 = not read */
	uint32_t size;           /* bytes; 0 = take it from the JEDEC id */
};

struct profile_fit {
	const struct profile *p; /* borrowed from the set */
	int score;               /* 0..100, higher fits better */
	char **reasons;          /* why it fits */
	size_t nreasons;
};

/*
 * Lists the profiles that do not contradict `d`, best first (score, then name). Returns the
 * count; *out is a heap array the caller frees with profile_fits_free(). Profiles of chips
 * espdesk cannot flash never fit a detected ESP8266.
 */
size_t profile_match(const struct profile_set *s, const struct profile_detected *d, struct profile_fit **out);
void profile_fits_free(struct profile_fit *v, size_t n);
/*
 * Where the detected hardware contradicts profile p: one heap message each ("profile says
 * 1 MB, chip reports 4 MB (0xEF4016 Winbond W25Q32)"). Returns the count (0 = consistent);
 * caller frees each and the array. A not-esp8266 profile always yields a message that says
 * espdesk cannot flash it.
 */
size_t profile_contradictions(const struct profile *p, const struct profile_detected *d, char ***msgs);

#endif
