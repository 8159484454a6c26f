"""What an access package's README.txt tells its reader, in English and Finnish: each file, the time zone of its
times, and the reader's other rights and where to complain (GDPR Art. 15(1)(e) and (f))."""

README = """Your call recordings held by Callvault
=====================================

This package answers your request to access your personal data (GDPR Article 15). Where it has no folder
recordings/, we hold no recordings of you.

- recordings/<id>/audio.*: each call as it was recorded, in its original format. Where card data was said
  on a call, the stored recording has those moments muted (PCI DSS 3.3.1); its metadata says so.
- recordings/<id>/transcript.json and transcript.txt: the machine transcript as we keep it (card data is
  never kept).
- recordings/<id>/metadata.json: the call's details, the purposes it is kept for, the date it will be
  deleted and the legal basis of each retention period, any corrections made at your request, and what our
  staff noted on the call (comments at moments of it, tags) and what training kept of it (nominations of it as an
  example, and clips cut from it, with personal data removed, for training our staff). A call
  kept after you asked for erasure says why under retention.kept_despite_erasure (a legal hold, or evidence
  of an agreement made on the call), with only the period that still keeps it.
- history.json: the other requests you made to us about your data (when, and whether each was answered or
  withdrawn) and the legal holds placed on your calls (when placed and released).
- recipients.json: who has received your recordings: research institutes that got them, pseudonymised,
  for a service-quality study, with the dates and whether they have confirmed returning or destroying them;
  one with no disclosed_at date has not downloaded them yet, and may do so until its access_until date.
- manifest.json: the SHA-256 checksum of every file, to check that nothing was altered. A call whose audio
  could not be found in our storage has its transcript and details here but no audio file; manifest.json lists
  it under audio_missing.

Times are in UTC (Coordinated Universal Time), written as ISO 8601 with their offset, +00:00: Finnish time is
UTC+2, and UTC+3 in summer.

Your rights: you may ask us to correct data about you that is wrong (Article 16), to erase it (Article 17) or to
restrict its processing (Article 18), and you may object to its use for research or marketing (Article 21): ask
where you asked for this package. You may also lodge a complaint with a supervisory authority (Article 77): in
Finland, the Office of the Data Protection Ombudsman (tietosuoja.fi).

Puhelutallenteesi Callvaultissa
===============================

Tämä paketti vastaa pyyntöösi saada pääsy henkilötietoihisi (EU:n yleinen tietosuoja-asetus, 15 artikla). Jos
paketissa ei ole kansiota recordings/, meillä ei ole puhelutallenteitasi.

- recordings/<id>/audio.*: jokainen puhelu sellaisena kuin se tallennettiin, alkuperäisessä muodossaan. Jos
  puhelussa sanottiin maksukortin tietoja, tallenteesta on vaimennettu ne kohdat (PCI DSS 3.3.1); puhelun
  tiedot kertovat siitä.
- recordings/<id>/transcript.json ja transcript.txt: puhelun koneellinen litteraatti sellaisena kuin
  säilytämme sen (maksukortin tietoja ei säilytetä koskaan).
- recordings/<id>/metadata.json: puhelun tiedot, käyttötarkoitukset, joita varten sitä säilytetään, päivä,
  jona se poistetaan, ja kunkin säilytysajan oikeusperuste, pyynnöstäsi tehdyt korjaukset sekä se, mitä
  henkilökuntamme on kirjannut puheluun (kommentit puhelun kohtiin ja tunnisteet) sekä mitä koulutukseen on
  otettu siitä (ehdotukset esimerkiksi ja siitä leikatut otteet, joista henkilötiedot on poistettu,
  henkilökuntamme koulutukseen). Jos puhelu säilytettiin
  poistopyynnöstäsi huolimatta, kohta retention.kept_despite_erasure kertoo syyn (oikeudellinen
  säilytysvelvoite tai näyttö puhelussa tehdystä sopimuksesta) ja vain sen säilytysajan, joka siihen yhä pätee.
- history.json: muut tietojasi koskevat pyyntösi (milloin ne tehtiin ja vastattiinko niihin vai peruttiinko
  ne) sekä puheluihisi asetetut oikeudelliset säilytysvelvoitteet (milloin ne asetettiin ja poistettiin).
- recipients.json: ketkä ovat saaneet tallenteitasi: tutkimuslaitokset, jotka saivat ne pseudonymisoituina
  palvelun laatututkimukseen, päivämäärineen, sekä se, ovatko ne vahvistaneet palauttaneensa tai
  hävittäneensä ne; laitos, jolla ei ole disclosed_at-päivää, ei ole vielä ladannut niitä ja voi tehdä sen
  access_until-päivään asti.
- manifest.json: jokaisen tiedoston SHA-256-tarkiste, jolla voi todeta, ettei mitään ole muutettu. Jos
  puhelun ääntä ei löytynyt tallennusjärjestelmästämme, sen litteraatti ja tiedot ovat paketissa ilman
  äänitiedostoa; manifest.json luettelee sen kohdassa audio_missing.

Ajat ovat UTC-aikaa (koordinoitu yleisaika) ISO 8601 -muodossa poikkeamineen, +00:00: Suomen aika on UTC+2,
kesäaikaan UTC+3.

Oikeutesi: voit pyytää meitä oikaisemaan sinua koskevat virheelliset tiedot (16 artikla), poistamaan ne
(17 artikla) tai rajoittamaan niiden käsittelyä (18 artikla), ja voit vastustaa niiden käyttöä tutkimukseen tai
markkinointiin (21 artikla): pyydä sitä samaa kautta kuin tätä pakettia. Sinulla on myös oikeus tehdä valitus
valvontaviranomaiselle (77 artikla): Suomessa se on tietosuojavaltuutetun toimisto (tietosuoja.fi).
"""
