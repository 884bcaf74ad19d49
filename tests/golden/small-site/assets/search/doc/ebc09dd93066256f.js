window.LAUNCHBOOK_SEARCH_PART("doc/ebc09dd93066256f",["page","Style guide","guides/style.html",["Style guide"],[]]);
