/* webchat_body.c - the web-chat API's request bodies (webchat_body.h). */
#include "webchat_body.h"

#include <string.h>

const char *webchat_read_session(const cJSON *json, const char **name)
{
    *name = NULL;
    if (!json)
        return NULL;
    if (!cJSON_IsObject(json))
        return "body: a JSON object";
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(json, "name");
    if (!n || cJSON_IsNull(n))
        return NULL;
    if (!cJSON_IsString(n) || strlen(n->valuestring) > WEBCHAT_MAX_NAME)
        return "name: a string of at most 128 bytes";
    *name = n->valuestring;
    return NULL;
}

const char *webchat_read_message(const cJSON *json, const char **text, const char **client_id)
{
    *text = *client_id = NULL;
    const cJSON *t = cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "text") : NULL;
    const cJSON *c =
        cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "client_id") : NULL;
    if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > WEBCHAT_MAX_TEXT)
        return "text: 1 to 4096 bytes";
    if (c && (!cJSON_IsString(c) || strlen(c->valuestring) > WEBCHAT_MAX_CLIENT_ID))
        return "client_id: a string of at most 64 bytes";
    *text = t->valuestring;
    *client_id = c ? c->valuestring : NULL;
    return NULL;
}
