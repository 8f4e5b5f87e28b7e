// Type-checked by `make test-types`: a classic script using the global
// `mezzo` that <script src="mezzo.js"> defines. (No import/export: this
// file is a script, like a page's own code.)
async function start(): Promise<void> {
  const client: mezzo.Client = await mezzo.createClient({ clientId: "spa", redirectUri: location.origin + "/" });
  if (client.isRedirectCallback()) await client.handleRedirectCallback();
  client.on("sessionExpired", (d) => console.log(d.code));
  try {
    console.log(await client.getToken());
  } catch (e) {
    if (e instanceof mezzo.MezzoError && e.code === "login_required") await client.login();
  }
  // @ts-expect-error there is no mezzo.getToken; tokens come from a client
  mezzo.getToken();
}
void start;
