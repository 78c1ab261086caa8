/* webchat_body.h - the web-chat API's request bodies, read without I/O
 * (webchat_body.c; webchat.c answers with them, tests/fuzz/webchat.c
 * fuzzes them). Each reader takes the strictly parsed body (NULL when the
 * request had none) and returns NULL when it is acceptable, else the
 * reason for the 400. */
#ifndef WEBCHAT_BODY_H
#define WEBCHAT_BODY_H

#include <cjson/cJSON.h>

#define WEBCHAT_MAX_NAME 128  /* bytes of a customer's name */
#define WEBCHAT_MAX_TEXT 4096 /* bytes of a message */
#define WEBCHAT_MAX_CLIENT_ID 64
#define WEBCHAT_MAX_EMAIL 254 /* bytes of a customer's e-mail */
#define WEBCHAT_MAX_LANG 16   /* bytes of a language tag */

/* Who opens a session (the widget's pre-chat form and language): each
 * NULL when not given (absent, null, empty or only spaces), borrowed from
 * the body. */
struct webchat_visitor {
    const char *name, *email, *language;
};

/* POST .../sessions {name?, email?, language?}: a name of at most 128
 * bytes, a plausible e-mail address, a language tag ("pl", "pt-BR"). */
const char *webchat_read_session(const cJSON *json, struct webchat_visitor *v);

/* POST .../messages {text, client_id?}: *text (1..4096 bytes) and
 * *client_id (NULL when none), borrowed from json. */
const char *webchat_read_message(const cJSON *json, const char **text, const char **client_id);

#endif
