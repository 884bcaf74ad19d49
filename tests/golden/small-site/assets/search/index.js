window.LAUNCHBOOK_SEARCH_PART("index",{"bits":10,"count":3,"names":"53f5b334d6146ec90eb547304658805aebc09dd93066256f","numbers":"9gk","shards":[""],"v":1});
