// The shared task suite's ToolAlpaca records (tasks/toolalpaca.ts fixture), field for field as
// the published files hold them: eval_simulated.json's shape for the test split (one
// instruction whose golden input refers to an earlier call, one with no golden steps),
// train_data.json's for the train split (a retried call, a generation error, an instance of
// getDetails only).

/** Two APIs as eval_simulated.json holds them. */
export function fixtureEval(): Record<string, unknown>[] {
  const axolotl = {
    getRandomAxolotlImage:
      "Retrieve a random axolotl image.\nParameters: {}\nOutput: Successful response.\n - Format: application/json\n - Structure: Object{url, source}",
    getAxolotlFacts:
      'Retrieve facts about axolotls.\nParameters: {"category": "string. One of: [habits, habitat]. The category.", "limit": "integer. The maximum number of facts."}\nOutput: Successful response.\n - Format: application/json\n - Structure: Array[Object{fact, source}]',
  };
  const ani = {
    searchAnime:
      'Search anime by title.\nParameters: {"title": "Required. string. The title."}\nOutput: Successful response.\n - Format: application/json\n - Structure: Array[#Anime]',
    getAnimeById:
      'Get one anime.\nParameters: {"animeId": "Required. integer. The id."}\nOutput: Successful response.\n - Format: application/json\n - Structure: #Anime',
  };
  return [
    {
      Name: "Axolotl",
      Description: "Collection of axolotl pictures and facts",
      Link: "https://theaxolotlapi.netlify.app/",
      Category: "Animals",
      Introduction: "The Axolotl API provides pictures and facts about axolotls.",
      Functions: "1. Name: getRandomAxolotlImage\n   Description: Retrieve a random axolotl image.",
      Documentation: '{"openapi": "3.0.0", "info": {"title": "Axolotl", "version": "1.0.0"}}',
      NLDocumentation: Object.entries(axolotl).map(([k, v]) => `${k}: ${v}`).join("\n"),
      Function_Description: { ...axolotl, components: "" },
      Function_Projection: {
        getRandomAxolotlImage: ["/random", "get"],
        getAxolotlFacts: ["/facts", "get"],
      },
      Instructions: [
        "Hey, can you show me a random picture of an axolotl?",
        "Tell me three facts about axolotl habitats, then show me a picture.",
      ],
      Golden_Answers: [
        [{ Action: "getRandomAxolotlImage", Action_Input: "{}" }],
        [
          { Action: "getAxolotlFacts", Action_Input: '{"category": "habitat", "limit": 3}' },
          { Action: "getRandomAxolotlImage", Action_Input: "{}" },
        ],
      ],
    },
    {
      Name: "AniAPI",
      Description: "Anime discovery, streaming & syncing with trackers",
      Link: "https://aniapi.com/docs/",
      Category: "Anime",
      Introduction: "AniAPI lets users search anime.",
      Functions: "1. Name: searchAnime\n   Description: Search anime by title.",
      Documentation: '{"openapi": "3.0.0", "info": {"title": "AniAPI", "version": "1.0.0"}}',
      NLDocumentation: Object.entries(ani).map(([k, v]) => `${k}: ${v}`).join("\n"),
      Function_Description: {
        ...ani,
        components:
          "The detailed output format for the tools is outlined below:\n#Anime: Object{id, title}",
      },
      Function_Projection: { searchAnime: ["/anime", "get"], getAnimeById: ["/anime/{id}", "get"] },
      Instructions: [
        "Find the anime called Naruto.",
        "What is anime 5 about? And Naruto?",
        "Show me the anime I found.",
        "What is anime 7 about?",
      ],
      Golden_Answers: [
        [{ Action: "searchAnime", Action_Input: '{"title": "Naruto"}' }],
        // A value from an earlier call: not JSON, so not an item.
        [
          { Action: "searchAnime", Action_Input: '{"title": "Naruto"}' },
          { Action: "getAnimeById", Action_Input: '{"animeId": ${animeId from searchAnime}}' },
        ],
        [{ Action: "getAnimeById", Action_Input: '{"animeId": 5}' }, {
          Action: "searchAnime",
          Action_Input: '{"title": "Naruto"}',
        }],
        [],
      ],
    },
  ];
}

/** Two APIs as train_data.json holds them (Instances, no Golden_Answers). */
export function fixtureTrain(): Record<string, unknown>[] {
  const dog = {
    getRandomFact: 'Get a random dog fact.\nParameters: {"number": "integer. How many facts."}',
  };
  const step = (action: string, input: string, observation: string) => [
    [action, input, ` I will call ${action}.\nAction: ${action}\nAction Input: ${input}`],
    observation,
  ];
  const instance = (input: string, steps: unknown[]) => ({
    input,
    output: "Here you are.",
    "Final Thought": "I have the answer.",
    intermediate_steps: steps,
  });
  return [
    {
      Name: "Dog Facts",
      Description: "Random dog facts",
      Category: "Animals",
      NLDocumentation: `getRandomFact: ${dog.getRandomFact}`,
      Function_Description: { ...dog, components: "" },
      Function_Projection: { getRandomFact: ["/facts", "get"] },
      Instructions: ["Give me 2 dog facts.", "Tell me a dog fact.", "One more dog fact, please."],
      Instances: [
        instance("Give me 2 dog facts.", [
          step("getRandomFact", '{"number": "2"}', "Status Code: 400. Response: bad number"),
          step("getRandomFact", '{"number": 2}', 'Status Code: 200. Response: ["a", "b"]'),
        ]),
        { error: "Could not parse LLM output" },
        instance("One more dog fact, please.\nHint: the user wants one fact.", [
          step("getRandomFact", "{}", 'Status Code: 200. Response: ["c"]'),
        ]),
      ],
    },
    {
      Name: "Covid-19",
      Description: "Covid 19 spread, infection and recovery",
      Category: "Health",
      NLDocumentation: "getSummary: Get a global summary.\nParameters: {}",
      Function_Description: { getSummary: "Get a global summary.\nParameters: {}", components: "" },
      Function_Projection: { getSummary: ["/summary", "get"] },
      Instructions: ["How many covid cases are there worldwide?", "And in my country?"],
      Instances: [
        instance("How many covid cases are there worldwide?", [
          step("getSummary", "{}", 'Status Code: 200. Response: {"cases": 10}'),
        ]),
        // Only getDetails: build_dataset.py does not train on it.
        instance("And in my country?", [
          step("getDetails", '{"Question": "Which country?"}', "Germany"),
        ]),
      ],
    },
  ];
}
