// The one header plug-ins include.
#pragma once

#include "pwsdk/api.h"
#include "pwsdk/callout.h"
#include "pwsdk/cluster.h"
#include "pwsdk/config.h"
#include "pwsdk/json.h"
#include "pwsdk/plugin.h"
#include "pwsdk/regex.h"
#include "pwsdk/rules.h"
#include "pwsdk/sse.h"
#include "pwsdk/state.h"
#include "pwsdk/types.h"
