window.LAUNCHBOOK_SEARCH_PART("doc/0eb547304658805a",["page","Welcome","index.html",["Welcome"],[]]);
