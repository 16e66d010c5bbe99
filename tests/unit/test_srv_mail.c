/* test_srv_mail.c - the EAS side's mail commands: Search (Mailbox with Range and Total, GAL, past
 * the end -> 12), ItemOperations Fetch (ServerId, LongId, body preference), SendMail into another
 * user's Inbox waking their Ping, duplicate ClientId (118), no recipient (119), SmartReply and
 * SmartForward, MoveItems statuses, Settings, MeetingResponse; and the memory figures
 * (printed, not asserted). */
#include "test_srv_util.h"

static uint32_t cmds(struct t_srv *t)
{
    return t_node(t, t_coll(t), EL_AS_COMMANDS, 0);
}

static void search_begin(struct t_srv *t, const char *store, const char *text, const char *range)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_SEARCH_SEARCH);
    el_wbxml_start(e, EL_SEARCH_STORE);
    el_wbxml_text(e, EL_SEARCH_NAME, store);
    el_wbxml_start(e, EL_SEARCH_QUERY);
    if (strcmp(store, "Mailbox") == 0) {
        el_wbxml_start(e, EL_SEARCH_AND);
        el_wbxml_text(e, EL_AS_CLASS, "Email");
        el_wbxml_text(e, EL_SEARCH_FREETEXT, text);
        el_wbxml_end(e);
    } else {
        el_wbxml_str(e, text, strlen(text));
    }
    el_wbxml_end(e);
    if (range) {
        el_wbxml_start(e, EL_SEARCH_OPTIONS);
        el_wbxml_text(e, EL_SEARCH_RANGE, range);
        el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
        el_wbxml_uint(e, EL_ASB_TYPE, 1);
        el_wbxml_uint(e, EL_ASB_TRUNCATIONSIZE, 100);
        el_wbxml_end(e);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, EL_SRV_SEARCH), 200);
}

static uint32_t store(struct t_srv *t)
{
    return t_node(t, 0, EL_SEARCH_SEARCH, EL_SEARCH_RESPONSE, EL_SEARCH_STORE, 0);
}

static void search_mailbox_finds_subjects_with_range_and_total(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 3, 40, 141);
    t_provision(&t);
    for (int i = 0; i < 15; i++)
        el_srv_admin_deliver(t.st, "user1", "Project Zebra update", NULL, 500, NULL);
    search_begin(&t, "Mailbox", "zebra", "0-9");
    assert_string_equal(t_text(&t, 0, EL_SEARCH_SEARCH, EL_SEARCH_STATUS, 0), "1");
    uint32_t s = store(&t);
    assert_string_equal(t_text(&t, s, EL_SEARCH_STATUS, 0), "1");
    assert_string_equal(t_text(&t, s, EL_SEARCH_TOTAL, 0), "15");
    assert_string_equal(t_text(&t, s, EL_SEARCH_RANGE, 0), "0-9");
    assert_int_equal(t_count(&t, s, EL_SEARCH_RESULT), 10);
    uint32_t r = t_nth(&t, s, EL_SEARCH_RESULT, 0);
    assert_string_equal(t_text(&t, r, EL_AS_CLASS, 0), "Email");
    assert_string_equal(t_text(&t, r, EL_AS_COLLECTIONID, 0), "1");
    assert_non_null(t_text(&t, r, EL_SEARCH_LONGID, 0));
    assert_string_equal(t_text(&t, r, EL_SEARCH_PROPERTIES, EL_EMAIL_SUBJECT, 0),
                        "Project Zebra update");
    assert_string_equal(t_text(&t, r, EL_SEARCH_PROPERTIES, EL_ASB_BODY, EL_ASB_TRUNCATED, 0), "1");
    search_begin(&t, "Mailbox", "zebra", "10-19");
    s = store(&t);
    assert_string_equal(t_text(&t, s, EL_SEARCH_RANGE, 0), "10-14");
    assert_int_equal(t_count(&t, s, EL_SEARCH_RESULT), 5);
    search_begin(&t, "Mailbox", "zebra", "20-29");
    assert_string_equal(t_text(&t, store(&t), EL_SEARCH_STATUS, 0), "12");
    search_begin(&t, "Mailbox", "no such words anywhere", NULL);
    s = store(&t);
    assert_string_equal(t_text(&t, s, EL_SEARCH_STATUS, 0), "1");
    assert_string_equal(t_text(&t, s, EL_SEARCH_TOTAL, 0), "0");
    search_begin(&t, "Mailbox", "zebra", "9-x");
    assert_string_equal(t_text(&t, store(&t), EL_SEARCH_STATUS, 0), "2");
    t_close(&t);
}

static void search_gal_lists_matching_users(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 25, 10, 141);
    t_provision(&t);
    search_begin(&t, "GAL", "user2", NULL); /* user2, user20..user25 */
    uint32_t s = store(&t);
    assert_string_equal(t_text(&t, s, EL_SEARCH_STATUS, 0), "1");
    assert_string_equal(t_text(&t, s, EL_SEARCH_TOTAL, 0), "7");
    uint32_t r = t_nth(&t, s, EL_SEARCH_RESULT, 0);
    assert_string_equal(t_text(&t, r, EL_SEARCH_PROPERTIES, EL_GAL_EMAILADDRESS, 0),
                        "user2@example.test");
    assert_non_null(t_text(&t, r, EL_SEARCH_PROPERTIES, EL_GAL_DISPLAYNAME, 0));
    search_begin(&t, "GAL", "user2", "5-9");
    s = store(&t);
    assert_int_equal(t_count(&t, s, EL_SEARCH_RESULT), 2);
    assert_string_equal(t_text(&t, s, EL_SEARCH_RANGE, 0), "5-6");
    t_close(&t);
}

static void fetch_begin(struct t_srv *t, const char *cid, const char *sid, const char *lid)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_text(e, EL_IO_STORE, "Mailbox");
    if (lid)
        el_wbxml_text(e, EL_SEARCH_LONGID, lid);
    if (cid)
        el_wbxml_text(e, EL_AS_COLLECTIONID, cid);
    if (sid)
        el_wbxml_text(e, EL_AS_SERVERID, sid);
    el_wbxml_start(e, EL_IO_OPTIONS);
    el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
    el_wbxml_uint(e, EL_ASB_TYPE, 2);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, EL_SRV_ITEMOPERATIONS), 200);
}

static uint32_t fetched(struct t_srv *t)
{
    return t_node(t, 0, EL_IO_ITEMOPERATIONS, EL_IO_RESPONSE, EL_IO_FETCH, 0);
}

static void itemoperations_fetch_by_serverid_and_longid(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    fetch_begin(&t, "1", "1:3", NULL);
    assert_string_equal(t_text(&t, 0, EL_IO_ITEMOPERATIONS, EL_IO_STATUS, 0), "1");
    uint32_t f = fetched(&t);
    assert_string_equal(t_text(&t, f, EL_IO_STATUS, 0), "1");
    assert_string_equal(t_text(&t, f, EL_AS_SERVERID, 0), "1:3");
    assert_string_equal(t_text(&t, f, EL_AS_CLASS, 0), "Email");
    char subject[256];
    snprintf(subject, sizeof(subject), "%s", t_text(&t, f, EL_IO_PROPERTIES, EL_EMAIL_SUBJECT, 0));
    uint32_t body = t_node(&t, f, EL_IO_PROPERTIES, EL_ASB_BODY, 0);
    assert_string_equal(t_text(&t, body, EL_ASB_TYPE, 0), "2");
    assert_null(t_text(&t, body, EL_ASB_TRUNCATED, 0));
    fetch_begin(&t, NULL, NULL, "L1:3");
    f = fetched(&t);
    assert_string_equal(t_text(&t, f, EL_IO_STATUS, 0), "1");
    assert_string_equal(t_text(&t, f, EL_SEARCH_LONGID, 0), "L1:3");
    assert_string_equal(t_text(&t, f, EL_IO_PROPERTIES, EL_EMAIL_SUBJECT, 0), subject);
    fetch_begin(&t, "1", "1:999", NULL);
    assert_string_equal(t_text(&t, fetched(&t), EL_IO_STATUS, 0), "6");
    fetch_begin(&t, "6", "1:3", NULL); /* right item, wrong folder */
    assert_string_equal(t_text(&t, fetched(&t), EL_IO_STATUS, 0), "6");
    t_close(&t);
}

static void attachments_are_listed_in_sync_and_fetched_by_filereference(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 40, 141);
    char key[32];
    t_ready(&t, "1", key);
    t_sync(&t, key, "1", NULL);
    uint32_t cm = t_node(&t, t_coll(&t), EL_AS_COMMANDS, 0);
    char ref[64] = "", size[32] = "";
    unsigned with = 0;
    for (unsigned i = 0; i < t_count(&t, cm, EL_AS_ADD); i++) {
        uint32_t att = t_node(&t, t_nth(&t, cm, EL_AS_ADD, i), EL_AS_APPLICATIONDATA,
                              EL_ASB_ATTACHMENTS, EL_ASB_ATTACHMENT, 0);
        if (att == 0)
            continue;
        with++;
        if (ref[0] == 0) {
            snprintf(ref, sizeof(ref), "%s", t_text(&t, att, EL_ASB_FILEREFERENCE, 0));
            snprintf(size, sizeof(size), "%s", t_text(&t, att, EL_ASB_ESTIMATEDDATASIZE, 0));
            assert_non_null(t_text(&t, att, EL_ASB_DISPLAYNAME, 0));
            assert_string_equal(t_text(&t, att, EL_ASB_METHOD, 0), "1");
        }
    }
    assert_true(with > 0 && with < 40);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_text(e, EL_IO_STORE, "Mailbox");
    el_wbxml_text(e, EL_ASB_FILEREFERENCE, ref);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_text(e, EL_IO_STORE, "Mailbox");
    el_wbxml_text(e, EL_ASB_FILEREFERENCE, "A1:1:9");
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_ITEMOPERATIONS), 200);
    uint32_t resp = t_node(&t, 0, EL_IO_ITEMOPERATIONS, EL_IO_RESPONSE, 0);
    uint32_t f0 = t_nth(&t, resp, EL_IO_FETCH, 0), f1 = t_nth(&t, resp, EL_IO_FETCH, 1);
    assert_string_equal(t_text(&t, f0, EL_IO_STATUS, 0), "1");
    assert_string_equal(t_text(&t, f0, EL_ASB_FILEREFERENCE, 0), ref);
    assert_non_null(t_text(&t, f0, EL_IO_PROPERTIES, EL_ASB_CONTENTTYPE, 0));
    uint32_t data = t_node(&t, f0, EL_IO_PROPERTIES, EL_IO_DATA, 0);
    unsigned long n = strtoul(size, NULL, 10);
    assert_int_equal(t.tree.n[data].len, (n + 2) / 3 * 4); /* base64 of the announced size */
    assert_string_equal(t_text(&t, f1, EL_IO_STATUS, 0), "15");
    /* the <= 14.1 GetAttachment command: the raw bytes, whose base64 is the Data above */
    struct el_buf b64;
    el_buf_init(&b64, 1 << 20);
    el_buf_append(&b64, t.tree.n[data].text, t.tree.n[data].len);
    el_buf_reset(&t.body);
    struct el_srv_request rq = {.cmd = EL_SRV_GETATTACHMENT,
                                .user = t.user,
                                .device_id = t.dev,
                                .device_type = "T",
                                .version = 141,
                                .has_policy_key = 1,
                                .policy_key = t.policy_key,
                                .attachment_name = ref};
    struct el_srv_response rs = {.body = &t.body};
    assert_int_equal(el_srv_handle(t.st, &rq, &rs), 0);
    assert_int_equal(rs.http_status, 200);
    assert_non_null(rs.content_type);
    assert_int_equal(t.body.len, n);
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i + 3 <= n; i += 3) { /* compare the full groups */
        uint32_t v =
            (uint32_t)t.body.data[i] << 16 | (uint32_t)t.body.data[i + 1] << 8 | t.body.data[i + 2];
        const uint8_t *q = b64.data + i / 3 * 4;
        assert_int_equal(q[0], tbl[v >> 18]);
        assert_int_equal(q[3], tbl[v & 63]);
    }
    el_buf_close(&b64);
    rq.attachment_name = "A1:1:7";
    memset(&rs, 0, sizeof(rs));
    rs.body = &t.body;
    assert_int_equal(el_srv_handle(t.st, &rq, &rs), 0);
    assert_int_equal(rs.http_status, 500);
    t_close(&t);
}

static int sendmail(struct t_srv *t, int cmd, const char *client_id, const char *mime, int save,
                    const char *src_folder, const char *src_item)
{
    struct el_wbxml_encoder *e = t_begin(t);
    uint16_t root = cmd == EL_SRV_SENDMAIL     ? EL_CM_SENDMAIL
                    : cmd == EL_SRV_SMARTREPLY ? EL_CM_SMARTREPLY
                                               : EL_CM_SMARTFORWARD;
    el_wbxml_start(e, root);
    el_wbxml_text(e, EL_CM_CLIENTID, client_id);
    if (src_item) {
        el_wbxml_start(e, EL_CM_SOURCE);
        el_wbxml_text(e, EL_CM_FOLDERID, src_folder);
        el_wbxml_text(e, EL_CM_ITEMID, src_item);
        el_wbxml_end(e);
    }
    if (save)
        el_wbxml_empty(e, EL_CM_SAVEINSENTITEMS);
    el_wbxml_opaque_elem(e, EL_CM_MIME, mime, strlen(mime));
    el_wbxml_end(e);
    return t_send(t, cmd);
}

static const char mime_to_user2[] = "From: someone@example.test\r\n"
                                    "To: \"User, Two\" <user2@example.test>,\r\n"
                                    " outside@elsewhere.test\r\n"
                                    "Subject: Lunch plans\r\n"
                                    "MIME-Version: 1.0\r\n"
                                    "Content-Type: text/plain\r\n"
                                    "\r\n"
                                    "Shall we meet at noon?\r\n";

static void sendmail_delivers_to_a_local_recipient_and_wakes_their_ping(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 141);
    /* user2's phone parks a Ping on its Inbox */
    t_as(&t, "user2", "pass2", "Phone2");
    char k2[32];
    t_ready(&t, "1", k2);
    t_sync(&t, k2, "1", NULL);
    t_key(&t, k2);
    uint32_t key2 = t.policy_key;
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 900);
    el_wbxml_start(e, EL_PING_FOLDERS);
    el_wbxml_start(e, EL_PING_FOLDER);
    el_wbxml_text(e, EL_PING_ID, "1");
    el_wbxml_text(e, EL_PING_CLASS, "Email");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PING), 200);
    struct el_srv_watch *w = t.rs.watch;
    assert_non_null(w);

    /* user1 sends */
    t_as(&t, "user1", "pass1", "Phone1");
    t_provision(&t);
    assert_int_equal(sendmail(&t, EL_SRV_SENDMAIL, "cid-1", mime_to_user2, 1, NULL, NULL), 200);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(t.wake.calls, 1);
    assert_ptr_equal(t.wake.last, w);
    /* the same ClientId again -> 118 */
    assert_int_equal(sendmail(&t, EL_SRV_SENDMAIL, "cid-1", mime_to_user2, 0, NULL, NULL), 200);
    assert_string_equal(t_text(&t, 0, EL_CM_SENDMAIL, EL_CM_STATUS, 0), "118");
    /* no recipient -> 119 */
    assert_int_equal(
        sendmail(&t, EL_SRV_SENDMAIL, "cid-2", "Subject: nobody\r\n\r\nhello\r\n", 0, NULL, NULL),
        200);
    assert_string_equal(t_text(&t, 0, EL_CM_SENDMAIL, EL_CM_STATUS, 0), "119");
    /* the copy in user1's Sent Items */
    char ks[32];
    t_sync(&t, "0", "4", NULL);
    t_key(&t, ks);
    search_begin(&t, "Mailbox", "Lunch plans", NULL);
    assert_string_equal(t_text(&t, store(&t), EL_SEARCH_TOTAL, 0), "1");
    assert_string_equal(t_text(&t, store(&t), EL_SEARCH_RESULT, EL_AS_COLLECTIONID, 0), "4");

    /* user2: the woken Ping says Inbox; the Sync brings the mail */
    struct el_srv_response rs = {.body = &t.body};
    el_buf_reset(&t.body);
    assert_int_equal(el_srv_finish_hold(t.st, w, 0, &rs), 0);
    el__tree_free(&t.tree);
    assert_int_equal(el__tree_parse(&t.tree, t.body.data, t.body.len, NULL), 0);
    assert_string_equal(t_text(&t, 0, EL_PING_PING, EL_PING_STATUS, 0), "2");
    t_as(&t, "user2", "pass2", "Phone2");
    t.policy_key = key2;
    t_sync(&t, k2, "1", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);
    uint32_t app = t_node(&t, cmds(&t), EL_AS_ADD, EL_AS_APPLICATIONDATA, 0);
    assert_string_equal(t_text(&t, app, EL_EMAIL_SUBJECT, 0), "Lunch plans");
    assert_non_null(strstr(t_text(&t, app, EL_EMAIL_FROM, 0), "user1@example.test"));
    assert_non_null(strstr(t_text(&t, app, EL_ASB_BODY, EL_ASB_DATA, 0), "noon"));
    t_close(&t);
}

static void sendmail_in_121_takes_raw_mime_and_the_query_flags(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 121);
    t_provision(&t);
    el_buf_reset(&t.body);
    memset(&t.rs, 0, sizeof(t.rs));
    struct el_srv_request rq = {.cmd = EL_SRV_SENDMAIL,
                                .user = t.user,
                                .device_id = t.dev,
                                .device_type = "Old",
                                .version = 121,
                                .has_policy_key = 1,
                                .policy_key = t.policy_key,
                                .body = (const uint8_t *)mime_to_user2,
                                .body_len = strlen(mime_to_user2),
                                .save_in_sent = 1};
    struct el_srv_response rs = {.body = &t.body};
    assert_int_equal(el_srv_handle(t.st, &rq, &rs), 0);
    assert_int_equal(rs.http_status, 200);
    assert_int_equal(t.body.len, 0);
    struct el__user *u1 = el__user_by_name(t.st, "user1", 5);
    struct el__user *u2 = el__user_by_name(t.st, "user2", 5);
    assert_non_null(u2->mb);
    assert_int_equal(u2->mb->f[EL__F_INBOX].live, 11);
    assert_int_equal(u1->mb->f[EL__F_SENT].live, 6);
    /* no recipient: HTTP 500 in 12.1 */
    rq.body = (const uint8_t *)"Subject: x\r\n\r\nbody\r\n";
    rq.body_len = strlen((const char *)rq.body);
    memset(&rs, 0, sizeof(rs));
    rs.body = &t.body;
    assert_int_equal(el_srv_handle(t.st, &rq, &rs), 0);
    assert_int_equal(rs.http_status, 500);
    t_close(&t);
}

static void smartreply_and_smartforward_need_their_source(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 141);
    t_provision(&t);
    assert_int_equal(sendmail(&t, EL_SRV_SMARTREPLY, "r1", mime_to_user2, 0, "1", "1:999"), 200);
    assert_string_equal(t_text(&t, 0, EL_CM_SMARTREPLY, EL_CM_STATUS, 0), "150");
    assert_int_equal(sendmail(&t, EL_SRV_SMARTREPLY, "r2", mime_to_user2, 0, "1", "1:2"), 200);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(sendmail(&t, EL_SRV_SMARTFORWARD, "f1", mime_to_user2, 0, "1", "1:2"), 200);
    assert_int_equal(t.body.len, 0);
    /* user2 got both; the forward carries the original text */
    t_as(&t, "user2", "pass2", "P2");
    t_provision(&t);
    search_begin(&t, "Mailbox", "Lunch plans", NULL);
    assert_string_equal(t_text(&t, store(&t), EL_SEARCH_TOTAL, 0), "2");
    struct el__user *u2 = el__user_by_name(t.st, "user2", 5);
    const struct el__folder *in = &u2->mb->f[EL__F_INBOX];
    const struct el__item *fwd = &in->items[in->n - 1];
    assert_non_null(fwd->own);
    assert_non_null(memmem(fwd->own->body, fwd->own->body_len, "Original Message", 16));
    t_close(&t);
}

static void move_begin(struct t_srv *t, const char *src, const char *sf, const char *df)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_MOVE_MOVEITEMS);
    el_wbxml_start(e, EL_MOVE_MOVE);
    el_wbxml_text(e, EL_MOVE_SRCMSGID, src);
    el_wbxml_text(e, EL_MOVE_SRCFLDID, sf);
    el_wbxml_text(e, EL_MOVE_DSTFLDID, df);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, EL_SRV_MOVEITEMS), 200);
}

static const char *move_status(struct t_srv *t)
{
    return t_text(t, 0, EL_MOVE_MOVEITEMS, EL_MOVE_RESPONSE, EL_MOVE_STATUS, 0);
}

static void moveitems_moves_and_reports_each_error(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char key[32];
    t_ready(&t, "11", key); /* Archive */
    t_sync(&t, key, "11", NULL);
    unsigned before = t_count(&t, cmds(&t), EL_AS_ADD);
    t_key(&t, key);
    move_begin(&t, "1:4", "1", "11");
    assert_string_equal(move_status(&t), "3");
    assert_string_equal(t_text(&t, 0, EL_MOVE_MOVEITEMS, EL_MOVE_RESPONSE, EL_MOVE_SRCMSGID, 0),
                        "1:4");
    char dst[32];
    snprintf(dst, sizeof(dst), "%s",
             t_text(&t, 0, EL_MOVE_MOVEITEMS, EL_MOVE_RESPONSE, EL_MOVE_DSTMSGID, 0));
    assert_int_equal(strncmp(dst, "11:", 3), 0);
    move_begin(&t, "1:4", "1", "11"); /* gone from the Inbox now */
    assert_string_equal(move_status(&t), "1");
    move_begin(&t, "1:5", "1", "99");
    assert_string_equal(move_status(&t), "2");
    move_begin(&t, "1:5", "1", "6"); /* mail into the Calendar */
    assert_string_equal(move_status(&t), "2");
    move_begin(&t, "1:5", "1", "1");
    assert_string_equal(move_status(&t), "4");
    /* the Archive sync brings the moved item */
    t_sync(&t, key, "11", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);
    assert_string_equal(t_text(&t, cmds(&t), EL_AS_ADD, EL_AS_SERVERID, 0), dst);
    (void)before;
    t_close(&t);
}

static void settings_answer_oof_userinfo_and_deviceinformation(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_SET_SETTINGS);
    el_wbxml_start(e, EL_SET_OOF);
    el_wbxml_start(e, EL_SET_SET);
    el_wbxml_uint(e, EL_SET_OOFSTATE, 1);
    el_wbxml_start(e, EL_SET_OOFMESSAGE);
    el_wbxml_empty(e, EL_SET_APPLIESTOINTERNAL);
    el_wbxml_uint(e, EL_SET_ENABLED, 1);
    el_wbxml_text(e, EL_SET_REPLYMESSAGE, "Gone fishing");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
    el_wbxml_start(e, EL_SET_SET);
    el_wbxml_text(e, EL_SET_MODEL, "iPhone15,2");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_SET_USERINFORMATION);
    el_wbxml_empty(e, EL_SET_GET);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SETTINGS), 200);
    assert_string_equal(t_text(&t, 0, EL_SET_SETTINGS, EL_SET_STATUS, 0), "1");
    assert_string_equal(t_text(&t, 0, EL_SET_SETTINGS, EL_SET_OOF, EL_SET_STATUS, 0), "1");
    assert_string_equal(t_text(&t, 0, EL_SET_SETTINGS, EL_SET_DEVICEINFORMATION, EL_SET_STATUS, 0),
                        "1");
    uint32_t ui = t_node(&t, 0, EL_SET_SETTINGS, EL_SET_USERINFORMATION, 0);
    assert_string_equal(t_text(&t, ui, EL_SET_STATUS, 0), "1");
    assert_string_equal(t_text(&t, ui, EL_SET_GET, EL_SET_ACCOUNTS, EL_SET_ACCOUNT,
                               EL_SET_EMAILADDRESSES, EL_SET_PRIMARYSMTPADDRESS, 0),
                        "user1@example.test");
    e = t_begin(&t);
    el_wbxml_start(e, EL_SET_SETTINGS);
    el_wbxml_start(e, EL_SET_OOF);
    el_wbxml_start(e, EL_SET_GET);
    el_wbxml_text(e, EL_SET_BODYTYPE, "Text");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SETTINGS), 200);
    uint32_t get = t_node(&t, 0, EL_SET_SETTINGS, EL_SET_OOF, EL_SET_GET, 0);
    assert_string_equal(t_text(&t, get, EL_SET_OOFSTATE, 0), "1");
    assert_string_equal(t_text(&t, get, EL_SET_OOFMESSAGE, EL_SET_REPLYMESSAGE, 0), "Gone fishing");
    assert_int_equal(t_count(&t, get, EL_SET_OOFMESSAGE), 3);
    t_close(&t);
}

static void meetingresponse_accepts_into_the_calendar(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 60, 141);
    t_provision(&t);
    struct el__user *u = el__user_by_name(t.st, "user1", 5);
    const struct el__folder *in = &u->mb->f[EL__F_INBOX];
    char req[24] = "", other[24] = "";
    for (uint32_t i = 0; i < in->n; i++) {
        if ((in->items[i].flags & EL__IF_MEETREQ) && !req[0])
            el__item_id(req, EL__F_INBOX, i);
        else if (!(in->items[i].flags & EL__IF_MEETREQ) && !other[0])
            el__item_id(other, EL__F_INBOX, i);
    }
    assert_true(req[0] != 0); /* 60 Inbox items include a meeting request with this seed */
    uint32_t cal_before = u->mb->f[EL__F_CALENDAR].live;
    const char *ids[2] = {req, other};
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_MR_MEETINGRESPONSE);
    for (int i = 0; i < 2; i++) {
        el_wbxml_start(e, EL_MR_REQUEST);
        el_wbxml_uint(e, EL_MR_USERRESPONSE, 1);
        el_wbxml_text(e, EL_MR_COLLECTIONID, "1");
        el_wbxml_text(e, EL_MR_REQUESTID, ids[i]);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_MEETINGRESPONSE), 200);
    uint32_t root = t_node(&t, 0, EL_MR_MEETINGRESPONSE, 0);
    uint32_t r0 = t_nth(&t, root, EL_MR_RESULT, 0), r1 = t_nth(&t, root, EL_MR_RESULT, 1);
    assert_string_equal(t_text(&t, r0, EL_MR_REQUESTID, 0), req);
    assert_string_equal(t_text(&t, r0, EL_MR_STATUS, 0), "1");
    const char *cal = t_text(&t, r0, EL_MR_CALENDARID, 0);
    assert_non_null(cal);
    assert_int_equal(strncmp(cal, "6:", 2), 0);
    assert_string_equal(t_text(&t, r1, EL_MR_STATUS, 0), "2"); /* not a meeting request */
    assert_null(t_text(&t, r1, EL_MR_CALENDARID, 0));
    assert_int_equal(u->mb->f[EL__F_CALENDAR].live, cal_before + 1);
    int fi;
    uint32_t ii;
    assert_int_equal(el__item_parse_id(u->mb, req, &fi, &ii), -1); /* request removed */
    /* decline a calendar item: removed, no CalendarId */
    char calid[24];
    snprintf(calid, sizeof(calid), "%s", cal);
    e = t_begin(&t);
    el_wbxml_start(e, EL_MR_MEETINGRESPONSE);
    el_wbxml_start(e, EL_MR_REQUEST);
    el_wbxml_uint(e, EL_MR_USERRESPONSE, 3);
    el_wbxml_text(e, EL_MR_COLLECTIONID, "6");
    el_wbxml_text(e, EL_MR_REQUESTID, calid);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_MEETINGRESPONSE), 200);
    assert_string_equal(t_text(&t, 0, EL_MR_MEETINGRESPONSE, EL_MR_RESULT, EL_MR_STATUS, 0), "1");
    assert_null(t_text(&t, 0, EL_MR_MEETINGRESPONSE, EL_MR_RESULT, EL_MR_CALENDARID, 0));
    assert_int_equal(u->mb->f[EL__F_CALENDAR].live, cal_before);
    t_close(&t);
}

static void admin_state_json_names_devices_and_keys(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 141);
    char key[32];
    t_ready(&t, "1", key);
    struct el_buf out;
    el_buf_init(&out, 1 << 20);
    struct el_err err;
    assert_int_equal(el_srv_admin_state_json(t.st, NULL, NULL, &out, &err), 0);
    el_buf_putc(&out, 0);
    assert_non_null(strstr((char *)out.data, "\"devices\":1"));
    assert_non_null(strstr((char *)out.data, "\"Provision\":2"));
    el_buf_reset(&out);
    assert_int_equal(el_srv_admin_state_json(t.st, "user1", "Dev1", &out, &err), 0);
    el_buf_putc(&out, 0);
    assert_non_null(strstr((char *)out.data, "\"device_id\":\"Dev1\""));
    assert_non_null(strstr((char *)out.data, "\"provisioned\":true"));
    char want[64];
    snprintf(want, sizeof(want), "\"1\":{\"sync_key\":%s", key);
    assert_non_null(strstr((char *)out.data, want));
    el_buf_reset(&out);
    assert_int_equal(el_srv_admin_state_json(t.st, "user1", "Nope", &out, &err), EL_EUNKNOWN);
    assert_int_equal(el_srv_admin_state_json(t.st, "zed", NULL, &out, &err), EL_EUNKNOWN);
    el_buf_close(&out);
    t_close(&t);
}

/* Memory figures for the report: bytes per generated mailbox and per device partnership that
 * has synced every folder once. Printed, never asserted. */
static void memory_per_user_and_per_partnership_is_reported(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 100, 50, 141);
    struct el_srv_stats s0, s1, s2;
    el_srv_get_stats(t.st, &s0);
    char name[16], pass[16];
    for (int i = 1; i <= 100; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        snprintf(pass, sizeof(pass), "pass%d", i);
        t_as(&t, name, pass, "PhoneA");
        t_provision(&t);
    }
    el_srv_get_stats(t.st, &s1);
    for (int i = 1; i <= 100; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        snprintf(pass, sizeof(pass), "pass%d", i);
        t_as(&t, name, pass, "PhoneB");
        t_provision(&t);
        t_foldersync(&t, "0");
        for (int f = 1; f <= EL__NFOLDERS; f++) {
            char fid[8], key[32];
            snprintf(fid, sizeof(fid), "%d", f);
            t_sync(&t, "0", fid, NULL);
            t_key(&t, key);
            struct t_sync_opts o = {.window = 512, .filter = -1};
            t_sync(&t, key, fid, &o);
        }
    }
    el_srv_get_stats(t.st, &s2);
    double per_user = (double)s1.mailbox_bytes / (double)s1.mailboxes;
    double per_dev_idle = (double)s1.device_bytes / (double)s1.devices;
    double per_dev_synced =
        (double)(s2.device_bytes - s1.device_bytes) / (double)(s2.devices - s1.devices);
    printf("memory: items_per_folder=50 items/user=%.0f mailbox_bytes/user=%.0f "
           "device_bytes/partnership: provisioned=%.0f all-folders-synced=%.0f "
           "(sizeof item=%zu device=%zu)\n",
           (double)s1.items / (double)s1.mailboxes, per_user, per_dev_idle, per_dev_synced,
           sizeof(struct el__item), sizeof(struct el__device));
    assert_int_equal(s1.mailboxes, 100);
    (void)s0;
    t_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(search_mailbox_finds_subjects_with_range_and_total),
        cmocka_unit_test(search_gal_lists_matching_users),
        cmocka_unit_test(itemoperations_fetch_by_serverid_and_longid),
        cmocka_unit_test(attachments_are_listed_in_sync_and_fetched_by_filereference),
        cmocka_unit_test(sendmail_delivers_to_a_local_recipient_and_wakes_their_ping),
        cmocka_unit_test(sendmail_in_121_takes_raw_mime_and_the_query_flags),
        cmocka_unit_test(smartreply_and_smartforward_need_their_source),
        cmocka_unit_test(moveitems_moves_and_reports_each_error),
        cmocka_unit_test(settings_answer_oof_userinfo_and_deviceinformation),
        cmocka_unit_test(meetingresponse_accepts_into_the_calendar),
        cmocka_unit_test(admin_state_json_names_devices_and_keys),
        cmocka_unit_test(memory_per_user_and_per_partnership_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
