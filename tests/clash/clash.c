/* whepsrc beside gst-plugins-rs's whepsrc (tests/clash/rs-whepsrc-standin.c
 * stands in for it): both plugins load, every whep:// and wheps:// URI
 * gets this whepsrc, "rotatingwhepsrc" is always this one.  meson runs the
 * suite twice, with either plugin first on GST_PLUGIN_PATH: the registry
 * keeps the "whepsrc" of the plugin scanned last.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#define OUR_TYPE "GstWhepRotatingSrc"
#define STANDIN_TYPE "GstWhepSrc"

static GstPlugin *
load_plugin (const gchar * name)
{
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (), name);

  fail_unless (plugin != NULL, "plugin %s is not in the registry", name);
  fail_if (GST_OBJECT_FLAG_IS_SET (plugin, GST_PLUGIN_FLAG_BLACKLISTED),
      "plugin %s is blacklisted (it failed to load)", name);
  gst_object_unref (plugin);
  plugin = gst_plugin_load_by_name (name);
  fail_unless (plugin != NULL, "plugin %s does not load", name);
  return plugin;
}

GST_START_TEST (test_both_plugins_load)
{
  GstPlugin *ours = load_plugin ("whepsrc");
  GstPlugin *standin = load_plugin ("webrtchttp");

  fail_unless (gst_plugin_is_loaded (ours) && gst_plugin_is_loaded (standin));
  fail_unless (g_type_from_name (OUR_TYPE) != 0);
  fail_unless (g_type_from_name (STANDIN_TYPE) != 0);
  gst_object_unref (ours);
  gst_object_unref (standin);
}

GST_END_TEST;

static void
check_uri (const gchar * uri)
{
  g_autoptr (GError) err = NULL;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, uri, NULL, &err);

  fail_unless (src != NULL, "%s: %s", uri, err ? err->message : "none");
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (src), OUR_TYPE);
  gst_object_unref (src);
}

GST_START_TEST (test_uris_get_this_whepsrc)
{
  check_uri ("whep://127.0.0.1:1/whep/cam");
  check_uri ("wheps://127.0.0.1:1/whep/cam");
}

GST_END_TEST;

GST_START_TEST (test_rotatingwhepsrc_is_this_one)
{
  GstElement *src = gst_element_factory_make ("rotatingwhepsrc", NULL);

  fail_unless (src != NULL);
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (src), OUR_TYPE);
  fail_unless (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
          "whep-endpoint") != NULL);
  /* Named as the element, not after its type. */
  fail_unless (g_str_has_prefix (GST_OBJECT_NAME (src), "whepsrc"),
      "named %s", GST_OBJECT_NAME (src));
  gst_object_unref (src);
}

GST_END_TEST;

/* "whepsrc" is one or the other, whichever plugin was scanned last; both
 * make a working element. */
GST_START_TEST (test_whepsrc_is_either)
{
  GstElement *src = gst_element_factory_make ("whepsrc", NULL);
  const gchar *type;

  fail_unless (src != NULL);
  type = G_OBJECT_TYPE_NAME (src);
  g_print ("clash: \"whepsrc\" is %s\n", type);
  fail_unless (g_str_equal (type, OUR_TYPE) || g_str_equal (type,
          STANDIN_TYPE), "whepsrc is %s", type);
  gst_object_unref (src);
}

GST_END_TEST;

static Suite *
clash_suite (void)
{
  Suite *s = suite_create ("clash");
  TCase *tc = tcase_create ("clash");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_both_plugins_load);
  tcase_add_test (tc, test_uris_get_this_whepsrc);
  tcase_add_test (tc, test_rotatingwhepsrc_is_this_one);
  tcase_add_test (tc, test_whepsrc_is_either);
  return s;
}

GST_CHECK_MAIN (clash);
