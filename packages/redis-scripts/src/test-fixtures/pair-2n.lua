return #KEYS
