#pragma once
/// Everything a user of igniter-cpp needs: `#include <igniter/igniter.hpp>`.

#include "igniter/client/client.hpp"
#include "igniter/json/decode.hpp"
#include "igniter/json/encode.hpp"
#include "igniter/json/json.hpp"
#include "igniter/json/schema.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/realtime/options.hpp"
#include "igniter/realtime/query_key.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/controller.hpp"
#include "igniter/server/ctx.hpp"
#include "igniter/server/inputs.hpp"
#include "igniter/server/procedure.hpp"
#include "igniter/server/realtime.hpp"
#include "igniter/server/response.hpp"
#include "igniter/store/store.hpp"
