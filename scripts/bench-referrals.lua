-- wrk script: submits varied referrals to POST /api/v1/referrals with a bearer token.
-- Names come from the same kinds of lists as `marac demo --people`, so each submission's
-- repeat search finds candidates among the stored people; about one in five resubmits a
-- victim and perpetrator this script sent earlier, which the rule marks as a repeat.
-- Environment: MARAC_TOKEN, MARAC_ID (the Marac's id), TODAY (YYYY-MM-DD), and optionally
-- PACE_MS: each connection then waits a random time averaging PACE_MS between requests
-- (arrivals as from independent referrers), so latency is measured at a set load instead of
-- at saturation. IDEMPOTENT=1 sends a new Idempotency-Key with each submission, as a client that
-- may retry does.

local token = os.getenv("MARAC_TOKEN")
local marac = os.getenv("MARAC_ID")
local today = os.getenv("TODAY")
local year = tonumber(string.sub(today, 1, 4))
local pace = tonumber(os.getenv("PACE_MS") or "")
local idempotent = os.getenv("IDEMPOTENT") == "1"
local run_label = ""
local counter = 0

local women = { "Amy", "Bethany", "Chloe", "Danielle", "Emma", "Fatima", "Gemma", "Hannah", "Imogen", "Jade",
  "Kirsty", "Laura", "Megan", "Nadia", "Olivia", "Paige", "Rachel", "Sadia", "Tanya", "Vicky", "Zoe", "Aisha",
  "Kelly", "Leanne" }
local men = { "Aaron", "Ben", "Craig", "Darren", "Euan", "Gary", "Imran", "Jamie", "Kyle", "Liam", "Mark",
  "Nathan", "Ryan", "Scott", "Tom", "Wayne" }
local families = { "Ahmed", "Baker", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal", "Jones",
  "Khan", "Lewis", "Morris", "Nowak", "Owen", "Parker", "Quinn", "Roberts", "Singh", "Taylor", "Walsh", "Wright",
  "Young", "Kowalski" }
local stems = { "Ash", "Brad", "Carl", "Dun", "Fair", "Gold", "Hart", "Kings", "Lang", "Mar", "Nor", "Pen", "Rad",
  "Stan", "Thorn", "Wel", "Whit", "Ald", "Bram", "Har", "Hol", "Bur", "Crom", "Ever", "Gar", "Lind", "Mel",
  "Rother", "Sand", "West" }
local endings = { "ley", "ton", "ford", "wood", "field", "by", "well", "more", "ham", "stone", "worth", "ridge",
  "brook", "croft", "dale" }
local questions = { "injury", "fear", "fear_of", "isolation", "victim_mental_health", "separation",
  "child_contact", "stalking", "pregnancy", "escalation_frequency", "escalation_severity", "coercive_control",
  "weapons", "threats_to_kill", "strangulation", "sexual_abuse", "other_threat", "harm_to_others",
  "animal_abuse", "financial", "perp_substance_mh", "perp_suicide", "breach", "criminal_history" }

local function pick(t) return t[math.random(#t)] end
local function family()
  if math.random(100) <= 35 then return pick(families) end
  return pick(stems) .. pick(endings)
end
local function dob(min_age, max_age)
  return string.format("%d-%02d-%02d", year - math.random(min_age, max_age), math.random(12), math.random(28))
end
local function postcode()
  local letters = "ABDEFGHJLNPQRSTUWXYZ"
  local function l() local i = math.random(#letters) return string.sub(letters, i, i) end
  return string.format("%s%d %d%s%s", pick({ "NS", "SS", "EP" }), math.random(20), math.random(0, 9), l(), l())
end

local sent = {}

function init(args)
  run_label = args[1] or ""
  math.randomseed(20261123 + (args[1] and tonumber(args[1]) or 0))
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local p
  if #sent > 20 and math.random(100) <= 20 then
    p = sent[math.random(#sent)]
  else
    local fam = family()
    p = { vg = pick(women), vf = fam, vd = dob(17, 70), pg = pick(men), pf = math.random(100) <= 60 and fam or family(),
      pd = dob(18, 75), pc = postcode() }
    if #sent < 5000 then sent[#sent + 1] = p end
  end
  local yes = math.random(10, 24)
  local answers = {}
  for i, q in ipairs(questions) do
    answers[#answers + 1] = string.format('"%s":"%s"', q, i <= yes and "yes" or "no")
  end
  local judgement = yes < 14
  local body = string.format([[{
"referral":{"marac":%s,"incident_date":"%s"},
"victim":{"given_name":"%s","family_name":"%s","date_of_birth":"%s","gender":"female","ethnicity":"white_british",
 "disability":"no","lgbt":"no","pregnant":"no","interpreter":"no","postcode":"%s"},
"perpetrators":[{"given_name":"%s","family_name":"%s","date_of_birth":"%s","gender":"male","relationship":"ex_partner"}],
"children":{"any":"no"},
"checklist":{"version":"safelives-dash@2026.1","answer":{%s}},
"reason":{"professional_judgement":"%s"%s},
"consent":{"given":"yes","victim_knows":"yes","previous_maracs":"no"},
"summary":{"text":"Synthetic benchmark referral: incident after separation; she is frightened he will find her."}
}]], marac, today, p.vg, p.vf, p.vd, p.pc, p.pg, p.pf, p.pd, table.concat(answers, ","),
    judgement and "yes" or "no",
    judgement and ',"professional_judgement_reason":"Threats since she left; he has found her new address."' or "")
  if idempotent then
    counter = counter + 1
    -- Unique to this run: the same seed makes the same referrals in every run.
    local headers = { ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_label, os.time(), counter) }
    for k, v in pairs(wrk.headers) do headers[k] = v end
    return wrk.format(nil, nil, headers, body)
  end
  return wrk.format(nil, nil, nil, body)
end

if pace then
  function delay()
    return math.floor(-math.log(1 - math.random()) * pace)
  end
end
