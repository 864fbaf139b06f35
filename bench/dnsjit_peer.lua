#!/usr/bin/env dnsjit
-- bench/dnsjit_peer.lua: the dnsjit peer of scripts/bench. For every packet of a capture,
-- dnsjit's layer filter decodes L2-L4 (Ethernet, 802.1Q, IPv4/IPv6, UDP/TCP); then the script
-- parses the DNS header and the first question and renders its name as text, which is the least
-- a DNS tool does per message. Prints the messages and names it saw (one line, so scripts/bench
-- can check it read the whole capture).
-- Usage: dnsjit bench/dnsjit_peer.lua CAPTURE.pcap
local pcap = arg[2]
if pcap == nil then
    io.stderr:write("usage: dnsjit " .. arg[1] .. " CAPTURE.pcap\n")
    os.exit(2)
end

local object = require("dnsjit.core.objects")
local input = require("dnsjit.input.pcap").new()
local layer = require("dnsjit.filter.layer").new()
local dns = require("dnsjit.core.object.dns").new()
local label = require("dnsjit.core.object.dns.label")
local labels = label.new(16)
local q = require("dnsjit.core.object.dns.q").new()

if input:open_offline(pcap) ~= 0 then
    io.stderr:write("dnsjit_peer: cannot open " .. pcap .. "\n")
    os.exit(1)
end
layer:producer(input)
local producer, ctx = layer:produce()

local messages, names, name_bytes = 0, 0, 0
while true do
    local obj = producer(ctx)
    if obj == nil then break end
    if obj.obj_type == object.PAYLOAD then
        local pl = obj:cast()
        if pl.len > 0 then
            dns.obj_prev = obj
            if dns:parse_header() == 0 then
                messages = messages + 1
                if dns.qdcount > 0 and dns:parse_q(q, labels, 16) == 0 then
                    local name = label.tooffstr(dns, labels, 16)
                    names = names + 1
                    name_bytes = name_bytes + #name
                end
            end
        end
    end
end
print(string.format("%d messages, %d names (%d bytes)", messages, names, name_bytes))
