"""The offline search index: many small JavaScript files, loaded only as a query needs them.

Browsers refuse ``fetch()`` of local files from ``file://`` pages, but a ``<script src>``
works everywhere, so every file of the index is a script that hands its data to
``window.LAUNCHBOOK_SEARCH_PART(name, data)`` (defined by the theme's ``launchbook.js``):

``assets/search/index.js``
    the meta file: the document count, each document's number and fragment name, the
    list of word shards, and how postings are blocked;
``assets/search/words/<hex of a prefix>.js``
    a word shard: every indexed word with that (folded) prefix -> its posting list, the
    numbers of the documents holding it and whether it is in their title, in a heading or
    item, or only in their text (:mod:`.codec`); ``all.js`` when one shard holds every word;
``assets/search/doc/<hash of the page URL>.js``
    a document's fragment: kind, title, URL, section paths, headings and items with their
    anchors; loaded only for the best candidates of a query.

A document's number and fragment name depend on its URL alone (and, for the number, the
power of two above the page count), never on its position: editing a page changes its
fragment and the shards of the words it gained, lost or moved, and nothing else.

Per-document data (words, fragment) is made at parse time and cached with the document
(:mod:`.document`); the join of every document's words is kept in the cache and patched
with what changed (:mod:`.postings`); :mod:`.files` splits it into shards and writes the
files. Everything is sorted, so the same input gives the same bytes.
"""
