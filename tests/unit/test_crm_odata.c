/* Unit tests for crm-sync's pure parts: OData URLs and filters with proper
 * quoting (services/crm-sync/odata.h), the answers of Creatio read as
 * hostile input (lists, errors, login, tokens, $batch), cookies and
 * Retry-After, the name table (names.h), chat and call records as CRM
 * fields (recmap.h) and the generic webhook's signature (webhook.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "odata.h"
#include "recmap.h"
#include "webhook.h"

#define S(x) ((char *)(x)) /* protobuf-c string fields are char * */

static void quotes_are_doubled_and_urls_percent_encoded(void **state)
{
    struct cc_buf b = CC_BUF_INIT;
    (void)state;
    assert_int_equal(odata_quote(&b, "O'Brien's"), CC_OK);
    assert_string_equal(b.data, "'O''Brien''s'");
    cc_buf_release(&b);
    assert_int_equal(cc_buf_adds(&b, "Contact"), CC_OK);
    assert_int_equal(odata_query(&b, "$filter", "Name eq 'a&b' or x eq '#1'"), CC_OK);
    assert_int_equal(odata_query(&b, "$select", "Id,Name"), CC_OK);
    assert_int_equal(odata_query(&b, "$top", NULL), CC_OK);
    assert_string_equal(b.data, "Contact?$filter=Name%20eq%20%27a%26b%27%20or%20x%20eq%20%27%231%27"
                                "&$select=Id%2CName");
    cc_buf_release(&b);
}

static void guids_and_names_are_validated(void **state)
{
    (void)state;
    assert_true(odata_guid_valid("c4ed336c-3e9b-40fe-8b82-5632476472b4"));
    assert_false(odata_guid_valid("c4ed336c-3e9b-40fe-8b82-5632476472b"));
    assert_false(odata_guid_valid("c4ed336c-3e9b-40fe-8b82-5632476472bz"));
    assert_false(odata_guid_valid("c4ed336c) or (1 eq 1-8b82-5632476472b4"));
    assert_false(odata_guid_valid(NULL));
    assert_true(odata_name_valid("UsrChat_2"));
    assert_false(odata_name_valid("Usr Chat"));
    assert_false(odata_name_valid("Contact?$top=1"));
    assert_false(odata_name_valid(""));
}

static void phone_digits_are_reversed_from_the_end(void **state)
{
    char out[32];
    (void)state;
    assert_int_equal(odata_reverse_digits("+380 50 123 4567", 7, 5, out, sizeof out), 7);
    assert_string_equal(out, "7654321");
    assert_int_equal(odata_reverse_digits("12-34", 7, 3, out, sizeof out), 4);
    assert_string_equal(out, "4321");
    assert_int_equal(odata_reverse_digits("12", 7, 5, out, sizeof out), -1);
    assert_int_equal(odata_reverse_digits("no digits", 7, 1, out, sizeof out), -1);
    assert_int_equal(odata_reverse_digits("123456789", 9, 1, out, 4), -1);
}

static void list_answers_are_checked_and_next_links_read(void **state)
{
    cJSON *root, *values;
    const char *next;
    (void)state;
    const char *ok = "{\"@odata.context\":\"x\",\"value\":[{\"Id\":\"a\"},{\"Id\":\"b\"}],"
                     "\"@odata.nextLink\":\"http://h/0/odata/Contact?$skip=2\"}";
    assert_int_equal(odata_parse_list(ok, strlen(ok), &root, &values, &next), CC_OK);
    assert_int_equal(cJSON_GetArraySize(values), 2);
    assert_string_equal(next, "http://h/0/odata/Contact?$skip=2");
    cJSON_Delete(root);
    static const char *bad[] = {"",
                                "[]",
                                "{\"value\":{}}",
                                "{\"value\":[1]}",
                                "{\"value\":[{}],"
                                "\"@odata.nextLink\":3}",
                                "{\"valu\":[]}",
                                "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(odata_parse_list(bad[i], strlen(bad[i]), &root, &values, &next),
                         CC_ERR_INTERNAL);
}

static void error_login_and_token_answers(void **state)
{
    char msg[128], tok[64];
    int64_t exp;
    (void)state;
    const char *err =
        "{\"error\":{\"code\":\"\",\"message\":\"The property 'Foo' does not exist\"}}";
    odata_error_message(err, strlen(err), msg, sizeof msg);
    assert_string_equal(msg, "The property 'Foo' does not exist");
    odata_error_message("oops", 4, msg, sizeof msg);
    assert_string_equal(msg, "");
    const char *good = "{\"Code\":0,\"Message\":\"\"}",
               *refused = "{\"Code\":1,\"Message\":\"Either "
                          "the username or password is incorrect.\"}";
    assert_true(odata_login_ok(good, strlen(good), msg, sizeof msg));
    assert_false(odata_login_ok(refused, strlen(refused), msg, sizeof msg));
    assert_string_equal(msg, "Either the username or password is incorrect.");
    assert_false(odata_login_ok("{}", 2, msg, sizeof msg));
    const char *t = "{\"access_token\":\"tok-1\",\"expires_in\":3600,\"token_type\":\"Bearer\"}";
    assert_int_equal(odata_token_parse(t, strlen(t), tok, sizeof tok, &exp), CC_OK);
    assert_string_equal(tok, "tok-1");
    assert_int_equal(exp, 3600);
    const char *inj = "{\"access_token\":\"a\\r\\nX-Evil: 1\"}", *neg = "{\"access_token\":\"a\","
                                                                        "\"expires_in\":-5}";
    assert_int_equal(odata_token_parse(inj, strlen(inj), tok, sizeof tok, &exp), CC_ERR_INTERNAL);
    assert_int_equal(odata_token_parse(neg, strlen(neg), tok, sizeof tok, &exp), CC_ERR_INTERNAL);
}

static void every_cookie_is_kept_and_sent_back(void **state)
{
    struct odata_cookies j = {0};
    struct cc_buf b = CC_BUF_INIT;
    (void)state;
    const char *lines[] = {"Set-Cookie: .ASPXAUTH=A1B2; path=/; HttpOnly\r\n",
                           "set-cookie: BPMCSRF=OpK/NuJJ1w; path=/\r\n",
                           "Set-Cookie: BPMLOADER=x9; path=/; HttpOnly\r\n",
                           "Content-Type: application/json\r\n",
                           "Set-Cookie: BPMCSRF=second; path=/\r\n",
                           "Set-Cookie: =novalue\r\n"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        odata_cookie_take(&j, lines[i], strlen(lines[i]));
    assert_int_equal(j.n, 3);
    assert_string_equal(odata_cookie_get(&j, "BPMCSRF"), "second");
    assert_int_equal(odata_cookie_header(&j, &b), CC_OK);
    assert_string_equal(b.data, "Cookie: .ASPXAUTH=A1B2; BPMCSRF=second; BPMLOADER=x9");
    cc_buf_release(&b);
}

static void retry_after_in_seconds_or_as_a_date(void **state)
{
    (void)state;
    assert_int_equal(odata_retry_after_ms("2", 0), 2000);
    assert_int_equal(odata_retry_after_ms(" 120\r", 0), 120000);
    assert_int_equal(odata_retry_after_ms("999999", 0), 3600000);
    assert_int_equal(odata_retry_after_ms("Wed, 21 Oct 2015 07:28:05 GMT", 1445412480000LL), 5000);
    assert_int_equal(odata_retry_after_ms("soon", 0), -1);
}

static void batch_bodies_carry_ids_and_answers_are_matched_by_id(void **state)
{
    (void)state;
    cJSON *body = cJSON_Parse("{\"UsrName\":\"Chat\"}");
    struct odata_op ops[2] = {{"POST", "UsrChat", body},
                              {"PATCH",
                               "UsrChat(c4ed336c-3e9b-40fe-"
                               "8b82-5632476472b4)",
                               body}};
    char *text = odata_batch_body(ops, 2);
    cJSON *doc = cJSON_Parse(text),
          *r1 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "requests"), 1);
    assert_string_equal(cJSON_GetObjectItem(r1, "id")->valuestring, "r1");
    assert_string_equal(cJSON_GetObjectItem(r1, "method")->valuestring, "PATCH");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r1, "body"), "UsrName")->valuestring, "Chat");
    cJSON_Delete(doc);
    free(text);
    assert_null(odata_batch_body(ops, 0));
    cJSON_Delete(body);

    long st[2];
    cJSON *bodies[2], *root;
    const char *ans =
        "{\"responses\":[{\"id\":\"r1\",\"status\":204},{\"id\":\"r0\",\"status\":201,"
        "\"body\":{\"Id\":\"x\"}}]}";
    assert_int_equal(odata_batch_parse(ans, strlen(ans), 2, st, bodies, &root), CC_OK);
    assert_int_equal(st[0], 201);
    assert_int_equal(st[1], 204);
    assert_string_equal(cJSON_GetObjectItem(bodies[0], "Id")->valuestring, "x");
    cJSON_Delete(root);
    const char *partial = "{\"responses\":[{\"id\":\"r0\",\"status\":500}]}";
    assert_int_equal(odata_batch_parse(partial, strlen(partial), 2, st, bodies, &root), CC_OK);
    assert_int_equal(st[1], 0); /* stopped at the failure: not processed */
    cJSON_Delete(root);
    static const char *bad[] = {"{\"responses\":[{\"id\":\"r2\",\"status\":200}]}",
                                "{\"responses\":[{\"id\":\"r0\",\"status\":99}]}",
                                "{\"responses\":[{\"id\":\"r0\",\"status\":200},{\"id\":\"r0\","
                                "\"status\":200}]}",
                                "{\"responses\":{}}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(odata_batch_parse(bad[i], strlen(bad[i]), 2, st, bodies, &root),
                         CC_ERR_INTERNAL);
}

static void names_have_defaults_and_checked_overrides(void **state)
{
    struct crm_names n;
    char why[128];
    (void)state;
    assert_int_equal(names_load(&n, NULL, why, sizeof why), CC_OK);
    assert_string_equal(n.v[N_CHAT_OBJECT], "UsrChat");
    assert_int_equal(names_load(&n,
                                "chat.object=MyChat,case.status_new=ae5f2f10-f46b-1410-fd9a-"
                                "0050ba5d6c38",
                                why, sizeof why),
                     CC_OK);
    assert_string_equal(n.v[N_CHAT_OBJECT], "MyChat");
    assert_string_equal(n.v[N_CALL_OBJECT], "Call");
    assert_int_equal(names_load(&n, "chat.object=My Chat", why, sizeof why), CC_ERR_INVALID);
    assert_string_equal(n.v[N_CHAT_OBJECT], "UsrChat");
    assert_int_equal(names_load(&n, "nope.key=X", why, sizeof why), CC_ERR_INVALID);
    assert_int_equal(names_load(&n, "case.status_new=NotAGuid", why, sizeof why), CC_ERR_INVALID);
}

static void chat_and_call_records_map_to_crm_fields(void **state)
{
    struct crm_names n;
    char why[64];
    (void)state;
    assert_int_equal(names_load(&n, "", why, sizeof why), CC_OK);
    Cc__V1__Chat ch = CC__V1__CHAT__INIT;
    Cc__V1__ChatLinks l = CC__V1__CHAT_LINKS__INIT;
    ch.id = S("cht_1"), ch.source = S("telegram"), ch.from = S("559912"), ch.to = S("bot"),
    ch.state = S("completed");
    ch.queue_name = S("Support L1"), ch.start_time = S("2024-05-02T09:15:00.000Z");
    ch.end_time = S("not a time"), ch.links = &l;
    l.contact_id = S("c4ed336c-3e9b-40fe-8b82-5632476472b4"), l.case_id = S("42");
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(recmap_chat(&n, &ch, "Resolved", o), CC_OK);
    assert_string_equal(cJSON_GetObjectItem(o, "UsrFrom")->valuestring, "telegram:559912");
    assert_string_equal(cJSON_GetObjectItem(o, "UsrState")->valuestring, "Completed");
    assert_string_equal(cJSON_GetObjectItem(o, "UsrResult")->valuestring, "Resolved");
    assert_string_equal(cJSON_GetObjectItem(o, "UsrName")->valuestring, "cht_1");
    assert_null(cJSON_GetObjectItem(o, "UsrEndDate")); /* not a time: left out */
    assert_null(cJSON_GetObjectItem(o, "UsrCaseId"));  /* not a GUID: left out */
    assert_non_null(cJSON_GetObjectItem(o, "UsrContactId"));
    cJSON_Delete(o);

    Cc__V1__Call cl = CC__V1__CALL__INIT;
    cl.id = S("call_1"), cl.direction = S("outbound"), cl.from = S("100"), cl.to = S("+3805");
    cl.enqueued_at = S("2024-05-02T10:00:00.000Z"), cl.ended_at = S("2024-05-02T10:05:20.400Z");
    cl.has_talk_s = 1, cl.talk_s = 299.6, cl.outcome = S("answered");
    o = cJSON_CreateObject();
    assert_int_equal(recmap_call(&n, &cl, NULL, o), CC_OK);
    assert_int_equal(cJSON_GetObjectItem(o, "Duration")->valueint, 320);
    assert_int_equal(cJSON_GetObjectItem(o, "TalkTime")->valueint, 300);
    assert_string_equal(cJSON_GetObjectItem(o, "DirectionId")->valuestring,
                        "53f71b5f-7e17-4cf5-bf14-6a59212db422");
    assert_string_equal(cJSON_GetObjectItem(o, "IntegrationId")->valuestring, "call_1");
    cJSON_Delete(o);
}

static void record_guids_are_stable_per_interaction(void **state)
{
    char a[37], b[37], c[37];
    (void)state;
    recmap_guid("chat", "cht_1", a);
    recmap_guid("chat", "cht_1", b);
    recmap_guid("call", "cht_1", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_true(odata_guid_valid(a));
}

static void webhook_signature_covers_timestamp_and_body(void **state)
{
    char sig[72], again[72];
    unsigned char mac[32];
    char hex[65];
    (void)state;
    webhook_sign("s3cret", 1700000000, "{\"a\":1}", 7, sig);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"s3cret", 6);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"1700000000.{\"a\":1}", 18);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    assert_memory_equal(sig, "sha256=", 7);
    assert_string_equal(sig + 7, hex);
    webhook_sign("s3cret", 1700000001, "{\"a\":1}", 7, again);
    assert_string_not_equal(sig, again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quotes_are_doubled_and_urls_percent_encoded),
        cmocka_unit_test(guids_and_names_are_validated),
        cmocka_unit_test(phone_digits_are_reversed_from_the_end),
        cmocka_unit_test(list_answers_are_checked_and_next_links_read),
        cmocka_unit_test(error_login_and_token_answers),
        cmocka_unit_test(every_cookie_is_kept_and_sent_back),
        cmocka_unit_test(retry_after_in_seconds_or_as_a_date),
        cmocka_unit_test(batch_bodies_carry_ids_and_answers_are_matched_by_id),
        cmocka_unit_test(names_have_defaults_and_checked_overrides),
        cmocka_unit_test(chat_and_call_records_map_to_crm_fields),
        cmocka_unit_test(record_guids_are_stable_per_interaction),
        cmocka_unit_test(webhook_signature_covers_timestamp_and_body),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
