/* whep-element-doc — writes docs/whepsrc-element.md, the element's page,
 * from what the plugin says about itself: the doc comment of
 * gst/gstwhepsrc.c (SECTION:element-whepsrc, gtk-doc style) and the
 * element class (metadata, pad templates, every property with its type,
 * range, default and flags), the way hotdoc builds GStreamer's pages.
 *
 *   whep-element-doc SOURCE.c > page.md     (meson: ninja element-doc)
 *
 * Needs the plugin on GST_PLUGIN_PATH.  The page is committed; the
 * "element-doc" test fails when it is out of date.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

/* The SECTION comment of @source, as Markdown: " * " prefixes gone,
 * gtk-doc's |[ … ]| code blocks as fenced ones, the SECTION and @title
 * lines dropped. */
static gboolean
print_doc_comment (const gchar * path)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean inside = FALSE;
  guint i;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i];

    if (!inside) {
      inside = strstr (line, "SECTION:element-whepsrc") != NULL;
      continue;
    }
    if (g_str_has_prefix (line, " */"))
      return TRUE;
    line = g_str_has_prefix (line, " * ") ? line + 3 :
        g_str_has_prefix (line, " *") ? line + 2 : line;
    if (g_str_has_prefix (line, "@title:"))
      continue;
    if (g_str_has_prefix (line, "|["))
      printf ("```\n");
    else if (g_str_has_prefix (line, "]|"))
      printf ("```\n");
    else
      printf ("%s\n", line);
  }
  return FALSE;
}

static gchar *
flags_text (GParamFlags flags)
{
  GString *s = g_string_new (NULL);

  if (flags & G_PARAM_READABLE)
    g_string_append (s, "readable, ");
  if (flags & G_PARAM_WRITABLE)
    g_string_append (s, "writable, ");
  if (flags & GST_PARAM_MUTABLE_PLAYING)
    g_string_append (s, "changeable in PLAYING, ");
  else if (flags & GST_PARAM_MUTABLE_PAUSED)
    g_string_append (s, "changeable up to PAUSED, ");
  else if (flags & GST_PARAM_MUTABLE_READY)
    g_string_append (s, "changeable in NULL or READY, ");
  if (s->len >= 2)
    g_string_truncate (s, s->len - 2);
  return g_string_free (s, FALSE);
}

/* Type, range and default of @pspec in one line of Markdown. */
static gchar *
value_text (GParamSpec * pspec)
{
  GValue def = G_VALUE_INIT;
  g_autofree gchar *shown = NULL;
  GString *s = g_string_new (NULL);

  g_value_init (&def, pspec->value_type);
  g_param_value_set_default (pspec, &def);
  if (G_IS_PARAM_SPEC_BOXED (pspec) || G_IS_PARAM_SPEC_OBJECT (pspec))
    shown = NULL;
  else
    shown = gst_value_serialize (&def);
  g_string_append_printf (s, "`%s`", g_type_name (pspec->value_type));
  if (G_IS_PARAM_SPEC_UINT (pspec))
    g_string_append_printf (s, ", %u – %u",
        G_PARAM_SPEC_UINT (pspec)->minimum, G_PARAM_SPEC_UINT (pspec)->maximum);
  else if (G_IS_PARAM_SPEC_INT (pspec))
    g_string_append_printf (s, ", %d – %d", G_PARAM_SPEC_INT (pspec)->minimum,
        G_PARAM_SPEC_INT (pspec)->maximum);
  else if (G_IS_PARAM_SPEC_DOUBLE (pspec))
    g_string_append_printf (s, ", %g – %g",
        G_PARAM_SPEC_DOUBLE (pspec)->minimum,
        G_PARAM_SPEC_DOUBLE (pspec)->maximum);
  else if (G_IS_PARAM_SPEC_ENUM (pspec)) {
    GEnumClass *klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
    guint i;

    g_string_append (s, ": ");
    for (i = 0; i < klass->n_values; i++)
      g_string_append_printf (s, "%s`%s`", i ? ", " : "",
          klass->values[i].value_nick);
  }
  g_string_append_printf (s, "; default `%s`", shown && *shown ? shown :
      "none");
  g_value_unset (&def);
  return g_string_free (s, FALSE);
}

static void
print_properties (GstElement * element)
{
  guint n, i;
  g_autofree GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);

  printf ("\n## Properties\n\n");
  printf ("| property | value | flags | description |\n|---|---|---|---|\n");
  for (i = 0; i < n; i++) {
    GParamSpec *pspec = specs[i];
    g_autofree gchar *value = NULL;
    g_autofree gchar *flags = NULL;

    /* GstObject's and GstBin's own are documented by GStreamer. */
    if (pspec->owner_type != G_OBJECT_TYPE (element))
      continue;
    value = value_text (pspec);
    flags = flags_text (pspec->flags);
    printf ("| `%s` | %s | %s | %s |\n", pspec->name, value, flags,
        g_param_spec_get_blurb (pspec));
  }
}

static void
print_pad_templates (GstElementFactory * factory)
{
  const GList *l;

  printf ("\n## Pad templates\n\n");
  for (l = gst_element_factory_get_static_pad_templates (factory); l;
      l = l->next) {
    GstStaticPadTemplate *t = l->data;
    g_autoptr (GstCaps) caps = gst_static_caps_get (&t->static_caps);
    g_autofree gchar *text = gst_caps_to_string (caps);

    printf ("- `%s` — %s, %s: `%s`\n", t->name_template,
        t->direction == GST_PAD_SRC ? "source" : "sink",
        t->presence == GST_PAD_SOMETIMES ? "sometimes" :
        t->presence == GST_PAD_REQUEST ? "on request" : "always", text);
  }
}

int
main (int argc, char **argv)
{
  GstElementFactory *factory;
  GstElement *element;
  GstPlugin *plugin;
  const gchar *const *protocols;
  guint i;

  gst_init (&argc, &argv);
  if (argc != 2) {
    g_printerr ("usage: %s gst/gstwhepsrc.c\n", argv[0]);
    return 2;
  }
  factory = gst_element_factory_find ("whepsrc");
  element = factory ? gst_element_factory_create (factory, NULL) : NULL;
  if (!element) {
    g_printerr ("whepsrc not found: set GST_PLUGIN_PATH\n");
    return 1;
  }
  plugin = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (factory));

  printf ("<!-- Generated by tools/whep-element-doc.c from gst/gstwhepsrc.c "
      "and the element itself (ninja -C build element-doc): do not edit. "
      "-->\n\n# whepsrc\n\n");
  printf ("| | |\n|---|---|\n");
  printf ("| Long name | %s |\n", gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_LONGNAME));
  printf ("| Klass | %s |\n", gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_KLASS));
  printf ("| Rank | %u (primary); also registered as `rotatingwhepsrc` |\n",
      gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (factory)));
  printf ("| Author | %s |\n", gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_AUTHOR));
  /* Not the URI itself: it holds the build's prefix. */
  printf ("| Documentation | this page, installed to PREFIX/share/doc/whepsrc"
      " (the Doc-uri of `gst-inspect-1.0 whepsrc`) |\n");
  printf ("| Plugin | %s %s (%s) |\n", gst_plugin_get_name (plugin),
      gst_plugin_get_version (plugin), gst_plugin_get_license (plugin));
  printf ("| URI schemes |");
  protocols = gst_element_factory_get_uri_protocols (factory);
  for (i = 0; protocols && protocols[i]; i++)
    printf ("%s `%s://`", i ? "," : "", protocols[i]);
  printf (" |\n\n");

  if (!print_doc_comment (argv[1])) {
    g_printerr ("no SECTION:element-whepsrc comment in %s\n", argv[1]);
    return 1;
  }
  print_pad_templates (factory);
  print_properties (element);

  gst_object_unref (plugin);
  gst_object_unref (element);
  gst_object_unref (factory);
  return 0;
}
