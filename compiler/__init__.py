"""The .pref compiler: parse -> check -> ir -> solve -> emit."""
