-- fs_event_multicast_batch.lua: the fan-out of fs-event-multicast's batched injection.
--
-- Bound in lua.conf.xml as a hook (see conf/freeswitch/lua.conf.xml):
--   <hook event="CUSTOM" subclass="fs_event_multicast::batch" script="/path/to/fs_event_multicast_batch.lua"/>
-- mod_lua runs this script once per batch event (a fresh Lua state, global `event`). The
-- batch body carries many events the bridge would otherwise fire with one `sendevent` each;
-- each is fired here with exactly the (name, value) pairs mod_event_socket would have added,
-- in the same order, so listeners see the same headers, values and body.
--
-- Body (version 1), every length in bytes, nothing found by searching for delimiters in values:
--   "fs_event_multicast batch 1\n"
--   optional "P <token>\n"          probe: sets the global variable fs_event_multicast_batch_probe
--   per event: "E <pairs> <hasBody 0|1> <bodyBytes>\n"
--              per pair "<nameBytes> <valueBytes>\n" .. name .. value
--              then the body bytes
-- A malformed batch fires nothing and is logged (all or nothing: no half batch).
--
-- Flow control: the batch command's head may carry "Batch-Done-Seq: <token> <seq>". After the
-- batch is fanned out (or refused) the global variable fs_event_multicast_batch_done_<token> is
-- set to <seq>: FreeSWITCH's +OK only says the batch was queued, this says it was fired, so the
-- bridge keeps its backlog in its own queue (where newer state replaces older) instead of here.

local MAGIC = "fs_event_multicast batch 1\n"
local MAX_EVENTS = 1024
local MAX_PAIRS = 4096

local function fail(why)
  freeswitch.consoleLog("err", "fs_event_multicast_batch.lua: batch refused, nothing fired: " .. why .. "\n")
end

local function decode(s)
  if s == nil or s:sub(1, #MAGIC) ~= MAGIC then return nil, "bad magic line" end
  local pos = #MAGIC + 1
  local token = nil
  if s:sub(pos, pos + 1) == "P " then
    local t = s:match("^P ([0-9a-f]+)\n", pos)
    if t == nil or #t > 64 then return nil, "bad probe line" end
    token = t
    pos = pos + 3 + #t
  end
  local events = {}
  local size = #s
  while pos <= size do
    if #events >= MAX_EVENTS then return nil, "too many events" end
    local n, hb, bl = s:match("^E (%d+) ([01]) (%d+)\n", pos)
    if n == nil then return nil, "bad event line at byte " .. pos end
    pos = pos + 6 + #n + #bl
    n = tonumber(n)
    bl = tonumber(bl)
    if n < 1 or n > MAX_PAIRS or (hb == "0" and bl ~= 0) then return nil, "bad event line" end
    local pairs_ = {}
    local subclass = nil
    for i = 1, n do
      local nl, vl = s:match("^(%d+) (%d+)\n", pos)
      if nl == nil then return nil, "bad pair line at byte " .. pos end
      pos = pos + 2 + #nl + #vl
      nl = tonumber(nl)
      vl = tonumber(vl)
      if nl < 1 or pos + nl + vl - 1 > size then return nil, "pair past the end at byte " .. pos end
      local name = s:sub(pos, pos + nl - 1)
      local value = s:sub(pos + nl, pos + nl + vl - 1)
      pos = pos + nl + vl
      if subclass == nil and name:lower() == "event-subclass" then subclass = value end
      pairs_[i] = { name, value }
    end
    if pos + bl - 1 > size then return nil, "event body past the end at byte " .. pos end
    local body = nil
    if hb == "1" then body = s:sub(pos, pos + bl - 1) end
    pos = pos + bl
    if subclass == nil or subclass:sub(1, 11) ~= "multicast::" or #subclass == 11 then
      return nil, "an event without a multicast:: subclass"
    end
    events[#events + 1] = { subclass = subclass, pairs = pairs_, body = body }
  end
  return { token = token, events = events }
end

local function report_done()
  local mark = event:getHeader("Batch-Done-Seq")
  if mark == nil then return end
  local token, seq = mark:match("^([0-9a-f]+) ([0-9]+)$")
  if token == nil or #token > 32 or #seq > 15 then return end
  freeswitch.setGlobalVariable("fs_event_multicast_batch_done_" .. token, seq)
end

local batch, why = decode(event:getBody())
if batch == nil then
  fail(why)
  report_done()
  return
end
-- What switch_event_prep_for_delivery stamps, in its order. A CUSTOM event made here is stamped
-- when it is created (so before its own headers); sendevent stamps after them. Taken off at
-- creation and put back after the event's headers, they come in sendevent's order.
local STAMPS = { "Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4",
  "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File",
  "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence" }

for _, ev in ipairs(batch.events) do
  local e = freeswitch.Event("CUSTOM", ev.subclass)
  local stamp = {}
  for i, name in ipairs(STAMPS) do
    stamp[i] = e:getHeader(name)
    e:delHeader(name)
  end
  for _, p in ipairs(ev.pairs) do e:addHeader(p[1], p[2]) end
  -- sendevent's switch_event_set_subclass_name: Event-Subclass removed and added again at the end.
  e:delHeader("Event-Subclass")
  e:addHeader("Event-Subclass", ev.subclass)
  for i, name in ipairs(STAMPS) do
    if stamp[i] ~= nil then e:addHeader(name, stamp[i]) end
  end
  if ev.body ~= nil then e:addBody(ev.body) end
  e:fire()
end
if batch.token ~= nil then freeswitch.setGlobalVariable("fs_event_multicast_batch_probe", batch.token) end
report_done()
