/* test_srv_sync.c - FolderSync, Sync and GetItemEstimate of the EAS side: keys (prime with 0,
 * each response key replaces the old, the previous one works once, others -> 3), windowing with
 * MoreAvailable over 120 items, body preference and truncation, client Add/Change/Delete/Fetch,
 * incremental Sync after an admin delivery, FilterType, the Collection child order. */
#include "test_srv_util.h"

static uint32_t cmds(struct t_srv *t)
{
    return t_node(t, t_coll(t), EL_AS_COMMANDS, 0);
}

static void foldersync_lists_the_hierarchy_and_checks_its_key(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    char key[32];
    snprintf(key, sizeof(key), "%s", t_foldersync(&t, "0"));
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_STATUS, 0), "1");
    uint32_t ch = t_node(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, 0);
    assert_string_equal(t_text(&t, ch, EL_FH_COUNT, 0), "11");
    assert_int_equal(t_count(&t, ch, EL_FH_ADD), 11);
    uint32_t inbox = t_nth(&t, ch, EL_FH_ADD, 0);
    assert_string_equal(t_text(&t, inbox, EL_FH_SERVERID, 0), "1");
    assert_string_equal(t_text(&t, inbox, EL_FH_PARENTID, 0), "0");
    assert_string_equal(t_text(&t, inbox, EL_FH_DISPLAYNAME, 0), "Inbox");
    assert_string_equal(t_text(&t, inbox, EL_FH_TYPE, 0), "2");
    assert_string_equal(t_text(&t, t_nth(&t, ch, EL_FH_ADD, 5), EL_FH_TYPE, 0), "8");
    assert_string_equal(t_text(&t, t_nth(&t, ch, EL_FH_ADD, 9), EL_FH_PARENTID, 0), "1");
    /* the current key: no changes, the same key */
    assert_string_equal(t_foldersync(&t, key), key);
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, EL_FH_COUNT, 0), "0");
    /* a wrong key -> 9 */
    t_foldersync(&t, "123");
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_STATUS, 0), "9");
    t_foldersync(&t, "abc");
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_STATUS, 0), "9");
    t_close(&t);
}

/* FolderCreate/FolderUpdate/FolderDelete with the device's hierarchy key; returns the Status. */
static const char *folder_cmd(struct t_srv *t, int cmd, const char *key, const char *sid,
                              const char *parent, const char *name, const char *type)
{
    uint16_t root = cmd == EL_SRV_FOLDERCREATE   ? EL_FH_FOLDERCREATE
                    : cmd == EL_SRV_FOLDERDELETE ? EL_FH_FOLDERDELETE
                                                 : EL_FH_FOLDERUPDATE;
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, root);
    el_wbxml_text(e, EL_FH_SYNCKEY, key);
    if (sid)
        el_wbxml_text(e, EL_FH_SERVERID, sid);
    if (parent)
        el_wbxml_text(e, EL_FH_PARENTID, parent);
    if (name)
        el_wbxml_text(e, EL_FH_DISPLAYNAME, name);
    if (type)
        el_wbxml_text(e, EL_FH_TYPE, type);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, cmd), 200);
    return t_text(t, 0, root, EL_FH_STATUS, 0);
}

static void folder_create_update_delete_show_up_in_other_devices_foldersync(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    /* Dev2 knows the hierarchy first */
    snprintf(t.dev, sizeof(t.dev), "Dev2");
    t_provision(&t);
    uint32_t key2 = t.policy_key;
    char h2[32], h2b[32];
    snprintf(h2, sizeof(h2), "%s", t_foldersync(&t, "0"));
    /* Dev1 creates a folder under the Inbox */
    snprintf(t.dev, sizeof(t.dev), "Dev1");
    t_provision(&t);
    uint32_t key1 = t.policy_key;
    char h1[32], sid[16];
    snprintf(h1, sizeof(h1), "%s", t_foldersync(&t, "0"));
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "1", "Receipts", "12"), "1");
    snprintf(sid, sizeof(sid), "%s", t_text(&t, 0, EL_FH_FOLDERCREATE, EL_FH_SERVERID, 0));
    assert_string_equal(sid, "12");
    snprintf(h1, sizeof(h1), "%s", t_text(&t, 0, EL_FH_FOLDERCREATE, EL_FH_SYNCKEY, 0));
    /* its own FolderSync does not report it back */
    assert_string_equal(t_foldersync(&t, h1), h1);
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, EL_FH_COUNT, 0), "0");
    /* errors */
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "1", "receipts", "12"), "2");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "99", "X", "12"), "5");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "0", "X", "2"), "3");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, "777", NULL, "0", "X", "12"), "9");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "0", NULL, "12"), "10");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERUPDATE, h1, "1", "0", "Post", NULL), "3");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERUPDATE, h1, "15", "0", "Post", NULL), "4");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERUPDATE, h1, sid, sid, "Loop", NULL), "5");
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERDELETE, h1, "6", NULL, NULL, NULL), "3");

    /* Dev2 gets the Add; a lost answer can be retried once with the old key */
    snprintf(t.dev, sizeof(t.dev), "Dev2");
    t.policy_key = key2;
    snprintf(h2b, sizeof(h2b), "%s", t_foldersync(&t, h2));
    assert_string_not_equal(h2b, h2);
    uint32_t ch = t_node(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, 0);
    assert_string_equal(t_text(&t, ch, EL_FH_COUNT, 0), "1");
    assert_string_equal(t_text(&t, ch, EL_FH_ADD, EL_FH_SERVERID, 0), "12");
    assert_string_equal(t_text(&t, ch, EL_FH_ADD, EL_FH_PARENTID, 0), "1");
    assert_string_equal(t_text(&t, ch, EL_FH_ADD, EL_FH_DISPLAYNAME, 0), "Receipts");
    assert_string_equal(t_text(&t, ch, EL_FH_ADD, EL_FH_TYPE, 0), "12");
    t_foldersync(&t, h2);
    assert_string_equal(
        t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, EL_FH_ADD, EL_FH_SERVERID, 0), "12");
    snprintf(h2b, sizeof(h2b), "%s", t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_SYNCKEY, 0));
    t_foldersync(&t, h2);
    assert_string_equal(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_STATUS, 0), "9");

    /* mail moved into the new folder syncs there */
    char key[32];
    t_sync(&t, "0", sid, NULL);
    t_key(&t, key);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_MOVE_MOVEITEMS);
    el_wbxml_start(e, EL_MOVE_MOVE);
    el_wbxml_text(e, EL_MOVE_SRCMSGID, "1:2");
    el_wbxml_text(e, EL_MOVE_SRCFLDID, "1");
    el_wbxml_text(e, EL_MOVE_DSTFLDID, sid);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_MOVEITEMS), 200);
    assert_string_equal(t_text(&t, 0, EL_MOVE_MOVEITEMS, EL_MOVE_RESPONSE, EL_MOVE_STATUS, 0), "3");
    t_sync(&t, key, sid, NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);

    /* Dev1 renames, then deletes it; Dev2 sees an Update, then a Delete */
    snprintf(t.dev, sizeof(t.dev), "Dev1");
    t.policy_key = key1;
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERUPDATE, h1, sid, "0", "Old receipts", NULL),
                        "1");
    snprintf(h1, sizeof(h1), "%s", t_text(&t, 0, EL_FH_FOLDERUPDATE, EL_FH_SYNCKEY, 0));
    snprintf(t.dev, sizeof(t.dev), "Dev2");
    t.policy_key = key2;
    snprintf(h2, sizeof(h2), "%s", t_foldersync(&t, h2b));
    ch = t_node(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, 0);
    assert_string_equal(t_text(&t, ch, EL_FH_UPDATE, EL_FH_DISPLAYNAME, 0), "Old receipts");
    assert_string_equal(t_text(&t, ch, EL_FH_UPDATE, EL_FH_PARENTID, 0), "0");
    snprintf(t.dev, sizeof(t.dev), "Dev1");
    t.policy_key = key1;
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERDELETE, h1, sid, NULL, NULL, NULL), "1");
    snprintf(h1, sizeof(h1), "%s", t_text(&t, 0, EL_FH_FOLDERDELETE, EL_FH_SYNCKEY, 0));
    assert_string_equal(folder_cmd(&t, EL_SRV_FOLDERDELETE, h1, sid, NULL, NULL, NULL), "4");
    snprintf(t.dev, sizeof(t.dev), "Dev2");
    t.policy_key = key2;
    t_foldersync(&t, h2);
    ch = t_node(&t, 0, EL_FH_FOLDERSYNC, EL_FH_CHANGES, 0);
    assert_string_equal(t_text(&t, ch, EL_FH_DELETE, EL_FH_SERVERID, 0), "12");
    t_sync(&t, key, sid, NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 12);

    /* five user folders fit; slots are not reused, so the sixth create fails with 6 */
    snprintf(t.dev, sizeof(t.dev), "Dev1");
    t.policy_key = key1;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof(name), "F%d", i);
        const char *st = folder_cmd(&t, EL_SRV_FOLDERCREATE, h1, NULL, "0", name, "13");
        assert_string_equal(st, i < 4 ? "1" : "6");
        if (i < 4)
            snprintf(h1, sizeof(h1), "%s", t_text(&t, 0, EL_FH_FOLDERCREATE, EL_FH_SYNCKEY, 0));
    }
    t_close(&t);
}

static void initial_sync_returns_a_key_and_no_items(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 20, 141);
    char key[32];
    t_ready(&t, "1", key);
    uint32_t c = t_coll(&t);
    assert_int_equal(t_status(&t, c), 1);
    assert_string_equal(t_text(&t, c, EL_AS_COLLECTIONID, 0), "1");
    assert_string_not_equal(key, "0");
    assert_int_equal(cmds(&t), 0);
    /* key 0 with GetChanges -> 4 */
    struct t_sync_opts o = {.getchanges = 1, .filter = -1};
    t_sync(&t, "0", "1", &o);
    assert_int_equal(t_status(&t, t_coll(&t)), 4);
    /* the first real Sync brings the 20 Inbox items */
    o.getchanges = -1;
    t_sync(&t, key, "1", &o);
    c = t_coll(&t);
    assert_int_equal(t_status(&t, c), 1);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 20);
    uint32_t add = t_nth(&t, cmds(&t), EL_AS_ADD, 0);
    assert_non_null(t_text(&t, add, EL_AS_SERVERID, 0));
    uint32_t app = t_node(&t, add, EL_AS_APPLICATIONDATA, 0);
    assert_non_null(t_text(&t, app, EL_EMAIL_SUBJECT, 0));
    assert_non_null(t_text(&t, app, EL_EMAIL_FROM, 0));
    assert_non_null(t_text(&t, app, EL_EMAIL_DATERECEIVED, 0));
    assert_non_null(t_text(&t, app, EL_ASB_BODY, EL_ASB_DATA, 0));
    assert_true(t_node(&t, c, EL_AS_MOREAVAILABLE, 0) == 0);
    /* the order of the Collection children: SyncKey, CollectionId, Status, Commands */
    uint32_t k = t.tree.n[c].child;
    assert_int_equal(t.tree.n[k].tag, EL_AS_SYNCKEY);
    k = t.tree.n[k].next;
    assert_int_equal(t.tree.n[k].tag, EL_AS_COLLECTIONID);
    k = t.tree.n[k].next;
    assert_int_equal(t.tree.n[k].tag, EL_AS_STATUS);
    k = t.tree.n[k].next;
    assert_int_equal(t.tree.n[k].tag, EL_AS_COMMANDS);
    t_close(&t);
}

static void incremental_sync_after_delivery_brings_only_the_new_mail(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 140);
    char key[32];
    t_ready(&t, "1", key);
    t_sync(&t, key, "1", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 10);
    t_key(&t, key);
    t_sync(&t, key, "1", NULL);
    assert_int_equal(cmds(&t), 0);
    t_key(&t, key);
    struct el_err err;
    assert_int_equal(el_srv_admin_deliver(t.st, "user1", "Hello from admin", NULL, 3000, &err), 0);
    assert_int_equal(el_srv_admin_deliver(t.st, "ghost", NULL, NULL, 10, &err), EL_EUNKNOWN);
    t_sync(&t, key, "1", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);
    uint32_t app = t_node(&t, cmds(&t), EL_AS_ADD, EL_AS_APPLICATIONDATA, 0);
    assert_string_equal(t_text(&t, app, EL_EMAIL_SUBJECT, 0), "Hello from admin");
    assert_string_equal(t_text(&t, app, EL_EMAIL_READ, 0), "0");
    t_key(&t, key);
    t_sync(&t, key, "1", NULL);
    assert_int_equal(cmds(&t), 0);
    t_close(&t);
}

static void previous_key_works_once_and_other_keys_get_status_3(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char k1[32], k2[32], k3[32];
    t_ready(&t, "1", k1);
    t_sync(&t, k1, "1", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 10);
    t_key(&t, k2);
    /* the response with k2 is "lost": retry with k1 gets the same items again */
    t_sync(&t, k1, "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 1);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 10);
    t_key(&t, k3);
    assert_string_not_equal(k3, k2);
    /* k2 was replaced by k3; k1 was used for its one retry */
    t_sync(&t, k2, "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 3);
    assert_string_equal(t_text(&t, t_coll(&t), EL_AS_SYNCKEY, 0), "0");
    t_sync(&t, k1, "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 3);
    t_sync(&t, "999999999", "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 3);
    /* k3 is current and nothing is pending */
    t_sync(&t, k3, "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 1);
    assert_int_equal(cmds(&t), 0);
    /* a key of one folder is not a key of another */
    t_key(&t, k1);
    t_sync(&t, k1, "6", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 3);
    /* unknown folder -> 12 */
    t_sync(&t, k1, "77", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 12);
    t_close(&t);
}

static void window_size_pages_120_items_with_moreavailable(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 120, 141);
    char key[32];
    t_ready(&t, "1", key);
    struct t_sync_opts o = {.window = 50, .getchanges = 1, .filter = -1};
    unsigned total = 0, rounds = 0, more;
    char seen[121] = {0};
    do {
        t_sync(&t, key, "1", &o);
        uint32_t c = t_coll(&t);
        assert_int_equal(t_status(&t, c), 1);
        unsigned n = t_count(&t, cmds(&t), EL_AS_ADD);
        more = t_node(&t, c, EL_AS_MOREAVAILABLE, 0) != 0;
        for (unsigned i = 0; i < n; i++) {
            const char *sid = t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, i), EL_AS_SERVERID, 0);
            unsigned idx = (unsigned)atoi(strchr(sid, ':') + 1);
            assert_true(idx >= 1 && idx <= 120);
            assert_int_equal(seen[idx], 0); /* no item twice */
            seen[idx] = 1;
        }
        total += n;
        assert_true(n == 50 || !more);
        t_key(&t, key);
        rounds++;
    } while (more && rounds < 10);
    assert_int_equal(total, 120);
    assert_int_equal(rounds, 3);
    /* WindowSize 0 and > 512 act as 512 */
    o.window = 0;
    t_sync(&t, "0", "1", NULL);
    t_key(&t, key);
    o.window = 9999;
    t_sync(&t, key, "1", &o);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 120);
    assert_true(t_node(&t, t_coll(&t), EL_AS_MOREAVAILABLE, 0) == 0);
    t_close(&t);
}

/* --sync-replay (bench/engine.sh): the same Sync body gets the same 50 items every time, with
 * the same key back; without it the second send of a key is a retry and the third gets 3. */
static void sync_replay_answers_the_same_window_to_the_same_key(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 120, 141);
    t.st->sync_replay = 1;
    char key[32], back[32], first_sid[32] = "";
    t_ready(&t, "1", key);
    struct t_sync_opts o = {.window = 50, .getchanges = 1, .filter = -1};
    uint8_t *first = NULL;
    size_t first_len = 0;
    for (int round = 0; round < 4; round++) {
        t_sync(&t, key, "1", &o);
        /* rounds 1-3 are the kept bytes of round 0 (srv_replay.c): byte for byte */
        assert_int_equal(t.st->stats.replay_hits, (uint64_t)(round > 0 ? round : 0));
        if (round == 0) {
            first_len = t.body.len;
            first = malloc(first_len);
            assert_non_null(first);
            memcpy(first, t.body.data, first_len);
        } else {
            assert_int_equal(t.body.len, first_len);
            assert_memory_equal(t.body.data, first, first_len);
        }
        uint32_t c = t_coll(&t);
        assert_int_equal(t_status(&t, c), 1);
        assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 50);
        assert_true(t_node(&t, c, EL_AS_MOREAVAILABLE, 0) != 0);
        const char *sid = t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_SERVERID, 0);
        if (round == 0)
            snprintf(first_sid, sizeof(first_sid), "%s", sid);
        assert_string_equal(sid, first_sid);
        t_key(&t, back);
        assert_string_equal(back, key);
    }
    /* another window size: another request, rendered */
    struct t_sync_opts o25 = o;
    o25.window = 25;
    t_sync(&t, key, "1", &o25);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 25);
    assert_int_equal(t.st->stats.replay_hits, 3);
    /* a device keeps one answer: the 50-item window is rendered again, then kept */
    t_sync(&t, key, "1", &o);
    assert_int_equal(t.st->stats.replay_hits, 3);
    assert_memory_equal(t.body.data, first, first_len);
    t_sync(&t, key, "1", &o);
    assert_int_equal(t.st->stats.replay_hits, 4);
    /* any change of the state in between (here: a remote wipe) and the kept answer is not sent */
    assert_int_equal(el_srv_admin_wipe(t.st, "user1", t.dev, 0, NULL), 0);
    t_sync(&t, key, "1", &o);
    assert_int_equal(t.st->stats.replay_hits, 4);
    assert_false(t.body.len == first_len && memcmp(t.body.data, first, first_len) == 0);
    free(first);
    t_close(&t);
    t_open(&t, 1, 120, 141);
    t_ready(&t, "1", key);
    /* off again: the key advances and the next window follows */
    t.st->sync_replay = 0;
    t_sync(&t, key, "1", &o);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 50);
    t_key(&t, back);
    assert_string_not_equal(back, key);
    t_sync(&t, back, "1", &o);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 50);
    assert_string_not_equal(t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_SERVERID, 0),
                            first_sid);
    t_close(&t);
}

static void body_preference_truncates_and_reports_the_full_size(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 30, 141);
    char key[32];
    t_ready(&t, "1", key);
    struct t_sync_opts o = {.filter = -1, .body_type = 1, .trunc = 200};
    t_sync(&t, key, "1", &o);
    unsigned n = t_count(&t, cmds(&t), EL_AS_ADD);
    assert_int_equal(n, 30);
    for (unsigned i = 0; i < n; i++) {
        uint32_t body =
            t_node(&t, t_nth(&t, cmds(&t), EL_AS_ADD, i), EL_AS_APPLICATIONDATA, EL_ASB_BODY, 0);
        assert_true(body != 0);
        assert_string_equal(t_text(&t, body, EL_ASB_TYPE, 0), "1");
        unsigned long est = strtoul(t_text(&t, body, EL_ASB_ESTIMATEDDATASIZE, 0), NULL, 10);
        assert_true(est >= 1024 && est <= 51200); /* generated bodies are 1-50 KB */
        assert_string_equal(t_text(&t, body, EL_ASB_TRUNCATED, 0), "1");
        uint32_t data = el__child(&t.tree, body, EL_ASB_DATA);
        assert_int_equal(t.tree.n[data].len, 200);
    }
    /* MIME: a whole RFC 822 message, untruncated */
    t_sync(&t, "0", "1", NULL);
    t_key(&t, key);
    o.body_type = 4;
    o.trunc = 0;
    o.window = 3;
    t_sync(&t, key, "1", &o);
    uint32_t body =
        t_node(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_APPLICATIONDATA, EL_ASB_BODY, 0);
    assert_string_equal(t_text(&t, body, EL_ASB_TYPE, 0), "4");
    assert_null(t_text(&t, body, EL_ASB_TRUNCATED, 0));
    uint32_t data = el__child(&t.tree, body, EL_ASB_DATA);
    assert_int_equal(t.tree.n[data].len,
                     strtoul(t_text(&t, body, EL_ASB_ESTIMATEDDATASIZE, 0), NULL, 10));
    assert_memory_equal(t.tree.n[data].text, "From: ", 6);
    /* HTML */
    t_key(&t, key);
    o.body_type = 2;
    t_sync(&t, key, "1", &o);
    body = t_node(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_APPLICATIONDATA, EL_ASB_BODY, 0);
    assert_string_equal(t_text(&t, body, EL_ASB_TYPE, 0), "2");
    assert_memory_equal(t.tree.n[el__child(&t.tree, body, EL_ASB_DATA)].text, "<html>", 6);
    t_close(&t);
}

static void client_add_change_delete_are_applied_and_answered(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char key[32];
    t_ready(&t, "7", key); /* Contacts */
    t_sync(&t, key, "7", NULL);
    unsigned had = t_count(&t, cmds(&t), EL_AS_ADD);
    assert_true(had >= 4);
    char victim[32], changed[32];
    snprintf(victim, sizeof(victim), "%s",
             t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_SERVERID, 0));
    snprintf(changed, sizeof(changed), "%s",
             t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 1), EL_AS_SERVERID, 0));
    t_key(&t, key);

    t_sync_begin(&t, key, "7", NULL);
    struct el_wbxml_encoder *e = &t.enc;
    el_wbxml_start(e, EL_AS_COMMANDS);
    el_wbxml_start(e, EL_AS_ADD);
    el_wbxml_text(e, EL_AS_CLIENTID, "c-1");
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_CONTACTS_FILEAS, "Tester, Tina");
    el_wbxml_text(e, EL_CONTACTS_FIRSTNAME, "Tina");
    el_wbxml_text(e, EL_CONTACTS_LASTNAME, "Tester");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_CHANGE);
    el_wbxml_text(e, EL_AS_SERVERID, changed);
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_CONTACTS_FILEAS, "Renamed, Ralf");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_DELETE);
    el_wbxml_text(e, EL_AS_SERVERID, victim);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_DELETE);
    el_wbxml_text(e, EL_AS_SERVERID, "7:999");
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_FETCH);
    el_wbxml_text(e, EL_AS_SERVERID, changed);
    el_wbxml_end(e);
    el_wbxml_end(e);
    t_sync_end(&t);
    uint32_t c = t_coll(&t);
    assert_int_equal(t_status(&t, c), 1);
    assert_int_equal(cmds(&t), 0); /* own edits are not echoed */
    uint32_t r = t_node(&t, c, EL_AS_RESPONSES, 0);
    assert_int_equal(t_count(&t, r, EL_AS_ADD), 1);
    assert_int_equal(t_count(&t, r, EL_AS_CHANGE), 0); /* success is silent */
    assert_int_equal(t_count(&t, r, EL_AS_DELETE), 1);
    assert_string_equal(t_text(&t, r, EL_AS_ADD, EL_AS_CLIENTID, 0), "c-1");
    assert_string_equal(t_text(&t, r, EL_AS_ADD, EL_AS_STATUS, 0), "1");
    char newid[32];
    snprintf(newid, sizeof(newid), "%s", t_text(&t, r, EL_AS_ADD, EL_AS_SERVERID, 0));
    assert_string_equal(t_text(&t, r, EL_AS_DELETE, EL_AS_SERVERID, 0), "7:999");
    assert_string_equal(t_text(&t, r, EL_AS_DELETE, EL_AS_STATUS, 0), "8");
    assert_string_equal(t_text(&t, r, EL_AS_FETCH, EL_AS_APPLICATIONDATA, EL_CONTACTS_FILEAS, 0),
                        "Renamed, Ralf");
    t_key(&t, key);

    /* a second device sees the add, the change and the delete */
    snprintf(t.dev, sizeof(t.dev), "Dev2");
    char k2[32];
    t_ready(&t, "7", k2);
    t_sync(&t, k2, "7", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), had); /* +1 added, -1 deleted */
    int found = 0;
    for (unsigned i = 0; i < had; i++) {
        uint32_t a = t_nth(&t, cmds(&t), EL_AS_ADD, i);
        assert_string_not_equal(t_text(&t, a, EL_AS_SERVERID, 0), victim);
        if (strcmp(t_text(&t, a, EL_AS_SERVERID, 0), newid) == 0) {
            assert_string_equal(t_text(&t, a, EL_AS_APPLICATIONDATA, EL_CONTACTS_FIRSTNAME, 0),
                                "Tina");
            found = 1;
        }
    }
    assert_true(found);
    t_close(&t);
}

static void add_task(struct t_srv *t, const char *key, const char *cid)
{
    t_sync_begin(t, key, "8", NULL);
    struct el_wbxml_encoder *e = &t->enc;
    el_wbxml_start(e, EL_AS_COMMANDS);
    el_wbxml_start(e, EL_AS_ADD);
    el_wbxml_text(e, EL_AS_CLIENTID, cid);
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_TASKS_SUBJECT, "Water the plants");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    t_sync_end(t);
}

static void a_retried_add_gets_the_same_serverid_not_a_duplicate(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char k1[32], k2[32], sid[32];
    t_ready(&t, "8", k1);
    t_sync(&t, k1, "8", NULL);
    t_key(&t, k1);
    struct el__user *u = el__user_by_name(t.st, "user1", 5);
    uint32_t live = u->mb->f[EL__F_TASKS].live;
    add_task(&t, k1, "task-1");
    snprintf(sid, sizeof(sid), "%s",
             t_text(&t, t_coll(&t), EL_AS_RESPONSES, EL_AS_ADD, EL_AS_SERVERID, 0));
    t_key(&t, k2);
    assert_int_equal(u->mb->f[EL__F_TASKS].live, live + 1);
    /* the answer was lost: the same request again with the previous key */
    add_task(&t, k1, "task-1");
    assert_int_equal(t_status(&t, t_coll(&t)), 1);
    assert_string_equal(t_text(&t, t_coll(&t), EL_AS_RESPONSES, EL_AS_ADD, EL_AS_SERVERID, 0), sid);
    assert_int_equal(cmds(&t), 0);
    assert_int_equal(u->mb->f[EL__F_TASKS].live, live + 1);
    t_key(&t, k2);
    t_sync(&t, k2, "8", NULL);
    assert_int_equal(cmds(&t), 0);
    t_close(&t);
}

static void mail_changes_set_read_and_deletes_move_to_deleted_items(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char key[32], dkey[32];
    t_ready(&t, "3", dkey); /* Deleted Items */
    t_sync(&t, dkey, "3", NULL);
    unsigned deleted_before = t_count(&t, cmds(&t), EL_AS_ADD);
    t_key(&t, dkey);
    t_sync(&t, "0", "1", NULL);
    t_key(&t, key);
    t_sync(&t, key, "1", NULL);
    char sid[32], sid2[32];
    snprintf(sid, sizeof(sid), "%s",
             t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 9), EL_AS_SERVERID, 0));
    snprintf(sid2, sizeof(sid2), "%s",
             t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 8), EL_AS_SERVERID, 0));
    t_key(&t, key);
    t_sync_begin(&t, key, "1", NULL);
    struct el_wbxml_encoder *e = &t.enc;
    el_wbxml_start(e, EL_AS_COMMANDS);
    el_wbxml_start(e, EL_AS_CHANGE);
    el_wbxml_text(e, EL_AS_SERVERID, sid);
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_EMAIL_READ, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_DELETE);
    el_wbxml_text(e, EL_AS_SERVERID, sid2);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_ADD);
    el_wbxml_text(e, EL_AS_CLIENTID, "m1");
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_EMAIL_SUBJECT, "not allowed");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    t_sync_end(&t);
    /* mail cannot be added by Sync before 16.0 */
    assert_string_equal(t_text(&t, t_coll(&t), EL_AS_RESPONSES, EL_AS_ADD, EL_AS_STATUS, 0), "6");
    struct el__user *u = el__user_by_name(t.st, "user1", 5);
    int fi;
    uint32_t ii;
    assert_int_equal(el__item_parse_id(u->mb, sid, &fi, &ii), 0);
    assert_true(u->mb->f[fi].items[ii].flags & EL__IF_READ);
    assert_int_equal(el__item_parse_id(u->mb, sid2, &fi, &ii), -1);
    /* the deleted mail shows up in Deleted Items */
    t_sync(&t, dkey, "3", NULL);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);
    (void)deleted_before;
    t_close(&t);
}

static void filter_type_hides_old_mail_and_softdeletes_when_narrowed(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 50, 141);
    char key[32];
    t_ready(&t, "1", key);
    struct t_sync_opts o = {.filter = 0};
    t_sync(&t, key, "1", &o);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 50);
    t_key(&t, key);
    o.filter = 1; /* one day: the generator spaces items about 3.5 h apart */
    t_sync(&t, key, "1", &o);
    unsigned soft = t_count(&t, cmds(&t), EL_AS_SOFTDELETE);
    assert_true(soft > 20 && soft < 50);
    t_key(&t, key);
    t_sync(&t, key, "1", &o);
    assert_int_equal(cmds(&t), 0);
    /* GetItemEstimate with a wider filter sees them again */
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_GIE_GETITEMESTIMATE);
    el_wbxml_start(e, EL_GIE_COLLECTIONS);
    el_wbxml_start(e, EL_GIE_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_GIE_COLLECTIONID, "1");
    el_wbxml_start(e, EL_AS_OPTIONS);
    el_wbxml_uint(e, EL_AS_FILTERTYPE, 0);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_GETITEMESTIMATE), 200);
    unsigned long est = strtoul(t_text(&t, 0, EL_GIE_GETITEMESTIMATE, EL_GIE_RESPONSE,
                                       EL_GIE_COLLECTION, EL_GIE_ESTIMATE, 0),
                                NULL, 10);
    assert_int_equal(est, soft);
    t_close(&t);
}

static void send_estimate(struct t_srv *t, const char *key, const char *cid)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_GIE_GETITEMESTIMATE);
    el_wbxml_start(e, EL_GIE_COLLECTIONS);
    el_wbxml_start(e, EL_GIE_COLLECTION);
    if (key)
        el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_GIE_COLLECTIONID, cid);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, EL_SRV_GETITEMESTIMATE), 200);
}

static const char *gie(struct t_srv *t, uint16_t tag)
{
    if (tag == EL_GIE_STATUS)
        return t_text(t, 0, EL_GIE_GETITEMESTIMATE, EL_GIE_RESPONSE, EL_GIE_STATUS, 0);
    return t_text(t, 0, EL_GIE_GETITEMESTIMATE, EL_GIE_RESPONSE, EL_GIE_COLLECTION, tag, 0);
}

static void getitemestimate_counts_pending_changes_and_checks_keys(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 40, 141);
    t_provision(&t);
    t_foldersync(&t, "0");
    send_estimate(&t, "0", "1");
    assert_string_equal(gie(&t, EL_GIE_STATUS), "3"); /* not primed */
    t_sync(&t, "0", "1", NULL);
    char key[32];
    t_key(&t, key);
    send_estimate(&t, key, "1");
    assert_string_equal(gie(&t, EL_GIE_STATUS), "1");
    assert_string_equal(gie(&t, EL_GIE_COLLECTIONID), "1");
    assert_string_equal(gie(&t, EL_GIE_ESTIMATE), "40");
    send_estimate(&t, "4242", "1");
    assert_string_equal(gie(&t, EL_GIE_STATUS), "4");
    send_estimate(&t, key, "55");
    assert_string_equal(gie(&t, EL_GIE_STATUS), "2");
    t_sync(&t, key, "1", NULL);
    t_key(&t, key);
    send_estimate(&t, key, "1");
    assert_string_equal(gie(&t, EL_GIE_ESTIMATE), "0");
    el_srv_admin_deliver(t.st, "user1", "one more", NULL, 100, NULL);
    send_estimate(&t, key, "1");
    assert_string_equal(gie(&t, EL_GIE_ESTIMATE), "1");
    t_close(&t);
}

static void collection_children_out_of_order_get_status_4(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char key[32];
    t_ready(&t, "1", key);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_COLLECTIONID, "1");
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
    assert_int_equal(t_status(&t, t_coll(&t)), 4);
    /* the key is still good */
    t_sync(&t, key, "1", NULL);
    assert_int_equal(t_status(&t, t_coll(&t)), 1);
    /* Wait out of range -> 14 with Limit */
    e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_uint(e, EL_AS_WAIT, 90);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
    assert_string_equal(t_text(&t, 0, EL_AS_SYNC, EL_AS_STATUS, 0), "14");
    assert_string_equal(t_text(&t, 0, EL_AS_SYNC, EL_AS_LIMIT, 0), "59");
    t_close(&t);
}

static void empty_sync_repeats_the_cached_request_with_current_keys(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    t_foldersync(&t, "0");
    /* no Sync yet: nothing cached -> 13 */
    assert_int_equal(t_send_raw(&t, EL_SRV_SYNC, NULL, 0), 200);
    assert_string_equal(t_text(&t, 0, EL_AS_SYNC, EL_AS_STATUS, 0), "13");
    char key[32];
    t_sync(&t, "0", "1", NULL);
    t_key(&t, key);
    struct t_sync_opts o = {.window = 4, .filter = -1, .body_type = 1, .trunc = 64};
    t_sync(&t, key, "1", &o);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 4);
    t_key(&t, key);
    /* the empty request continues with the cached window, body type and the current key */
    assert_int_equal(t_send_raw(&t, EL_SRV_SYNC, NULL, 0), 200);
    uint32_t c = t_coll(&t);
    assert_int_equal(t_status(&t, c), 1);
    assert_string_equal(t_text(&t, c, EL_AS_COLLECTIONID, 0), "1");
    assert_string_not_equal(t_text(&t, c, EL_AS_SYNCKEY, 0), key);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 4);
    assert_string_equal(t_text(&t, t_nth(&t, cmds(&t), EL_AS_ADD, 0), EL_AS_APPLICATIONDATA,
                               EL_ASB_BODY, EL_ASB_TRUNCATED, 0),
                        "1");
    t_close(&t);
}

static void partial_sync_adds_the_cached_collections(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 5, 141);
    t_provision(&t);
    t_foldersync(&t, "0");
    char ki[32], kc[32];
    /* one Sync with Inbox and Calendar builds the cache */
    t_sync(&t, "0", "1", NULL);
    t_key(&t, ki);
    t_sync(&t, "0", "6", NULL);
    t_key(&t, kc);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    const char *keys[2] = {ki, kc}, *ids[2] = {"1", "6"};
    for (int i = 0; i < 2; i++) {
        el_wbxml_start(e, EL_AS_COLLECTION);
        el_wbxml_text(e, EL_AS_SYNCKEY, keys[i]);
        el_wbxml_text(e, EL_AS_COLLECTIONID, ids[i]);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
    uint32_t colls = t_node(&t, 0, EL_AS_SYNC, EL_AS_COLLECTIONS, 0);
    assert_int_equal(t_count(&t, colls, EL_AS_COLLECTION), 2);
    snprintf(ki, sizeof(ki), "%s",
             t_text(&t, t_nth(&t, colls, EL_AS_COLLECTION, 0), EL_AS_SYNCKEY, 0));
    snprintf(kc, sizeof(kc), "%s",
             t_text(&t, t_nth(&t, colls, EL_AS_COLLECTION, 1), EL_AS_SYNCKEY, 0));
    el_srv_admin_deliver(t.st, "user1", "partial", NULL, 100, NULL);
    /* Partial with the Calendar only: the Inbox comes from the cache, with its new mail */
    e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, kc);
    el_wbxml_text(e, EL_AS_COLLECTIONID, "6");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_empty(e, EL_AS_PARTIAL);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
    colls = t_node(&t, 0, EL_AS_SYNC, EL_AS_COLLECTIONS, 0);
    assert_int_equal(t_count(&t, colls, EL_AS_COLLECTION), 2);
    uint32_t cal = t_nth(&t, colls, EL_AS_COLLECTION, 0),
             inbox = t_nth(&t, colls, EL_AS_COLLECTION, 1);
    assert_string_equal(t_text(&t, cal, EL_AS_COLLECTIONID, 0), "6");
    assert_int_equal(t_status(&t, cal), 1);
    assert_string_equal(t_text(&t, inbox, EL_AS_COLLECTIONID, 0), "1");
    assert_int_equal(t_status(&t, inbox), 1);
    assert_string_equal(
        t_text(&t, inbox, EL_AS_COMMANDS, EL_AS_ADD, EL_AS_APPLICATIONDATA, EL_EMAIL_SUBJECT, 0),
        "partial");
    t_close(&t);
}

static void sync_with_heartbeat_waits_for_changes(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    char key[32];
    t_ready(&t, "1", key);
    t_sync(&t, key, "1", NULL);
    t_key(&t, key);
    /* nothing pending: the request is held */
    for (int round = 0; round < 2; round++) {
        struct el_wbxml_encoder *e = t_begin(&t);
        el_wbxml_start(e, EL_AS_SYNC);
        el_wbxml_start(e, EL_AS_COLLECTIONS);
        el_wbxml_start(e, EL_AS_COLLECTION);
        el_wbxml_text(e, EL_AS_SYNCKEY, key);
        el_wbxml_text(e, EL_AS_COLLECTIONID, "1");
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_uint(e, EL_AS_HEARTBEATINTERVAL, 300);
        el_wbxml_end(e);
        assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
        assert_int_equal(t.body.len, 0);
        assert_int_equal(t.rs.hold_seconds, 300);
        struct el_srv_watch *w = t.rs.watch;
        assert_non_null(w);
        if (round == 0) {
            el_srv_admin_deliver(t.st, "user1", "while you waited", NULL, 100, NULL);
            assert_int_equal(t.wake.calls, 1);
        }
        el_buf_reset(&t.body);
        struct el_srv_response rs = {.body = &t.body};
        assert_int_equal(el_srv_finish_hold(t.st, w, round == 1, &rs), 0);
        assert_int_equal(rs.http_status, 200);
        el__tree_free(&t.tree);
        assert_int_equal(el__tree_parse(&t.tree, t.body.data, t.body.len, NULL), 0);
        uint32_t c = t_coll(&t);
        assert_int_equal(t_status(&t, c), 1);
        /* woken: the new mail; timed out: a new key and nothing else */
        assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), round == 0 ? 1 : 0);
        assert_string_not_equal(t_text(&t, c, EL_AS_SYNCKEY, 0), key);
        t_key(&t, key);
    }
    /* changes already waiting: answered at once */
    el_srv_admin_deliver(t.st, "user1", "already here", NULL, 100, NULL);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_uint(e, EL_AS_WAIT, 5);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_SYNC), 200);
    assert_null(t.rs.watch);
    assert_int_equal(t_count(&t, cmds(&t), EL_AS_ADD), 1);
    t_close(&t);
}

static void calendar_contacts_and_tasks_render_their_fields(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 50, 160);
    char key[32];
    t_ready(&t, "6", key);
    t_sync(&t, key, "6", NULL);
    unsigned n = t_count(&t, cmds(&t), EL_AS_ADD), recurring = 0;
    assert_int_equal(n, 25);
    for (unsigned i = 0; i < n; i++) {
        uint32_t app = t_node(&t, t_nth(&t, cmds(&t), EL_AS_ADD, i), EL_AS_APPLICATIONDATA, 0);
        assert_non_null(t_text(&t, app, EL_CAL_SUBJECT, 0));
        assert_int_equal(strlen(t_text(&t, app, EL_CAL_STARTTIME, 0)), 16);
        assert_null(t_text(&t, app, EL_CAL_LOCATION, 0)); /* 16.0: airsyncbase:Location */
        assert_non_null(t_text(&t, app, EL_ASB_LOCATION, EL_ASB_DISPLAYNAME, 0));
        recurring += t_node(&t, app, EL_CAL_RECURRENCE, 0) != 0;
    }
    assert_true(recurring > 0);
    t_sync(&t, "0", "8", NULL);
    t_key(&t, key);
    t_sync(&t, key, "8", NULL);
    uint32_t app = t_node(&t, cmds(&t), EL_AS_ADD, EL_AS_APPLICATIONDATA, 0);
    assert_non_null(t_text(&t, app, EL_TASKS_SUBJECT, 0));
    assert_non_null(t_text(&t, app, EL_TASKS_COMPLETE, 0));
    t_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(foldersync_lists_the_hierarchy_and_checks_its_key),
        cmocka_unit_test(folder_create_update_delete_show_up_in_other_devices_foldersync),
        cmocka_unit_test(initial_sync_returns_a_key_and_no_items),
        cmocka_unit_test(incremental_sync_after_delivery_brings_only_the_new_mail),
        cmocka_unit_test(previous_key_works_once_and_other_keys_get_status_3),
        cmocka_unit_test(window_size_pages_120_items_with_moreavailable),
        cmocka_unit_test(sync_replay_answers_the_same_window_to_the_same_key),
        cmocka_unit_test(body_preference_truncates_and_reports_the_full_size),
        cmocka_unit_test(client_add_change_delete_are_applied_and_answered),
        cmocka_unit_test(a_retried_add_gets_the_same_serverid_not_a_duplicate),
        cmocka_unit_test(mail_changes_set_read_and_deletes_move_to_deleted_items),
        cmocka_unit_test(filter_type_hides_old_mail_and_softdeletes_when_narrowed),
        cmocka_unit_test(getitemestimate_counts_pending_changes_and_checks_keys),
        cmocka_unit_test(collection_children_out_of_order_get_status_4),
        cmocka_unit_test(empty_sync_repeats_the_cached_request_with_current_keys),
        cmocka_unit_test(partial_sync_adds_the_cached_collections),
        cmocka_unit_test(sync_with_heartbeat_waits_for_changes),
        cmocka_unit_test(calendar_contacts_and_tasks_render_their_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
