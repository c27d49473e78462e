"""A credential in every common place people write one: each context, with a generated value,
through the whole detector (and the pure-Python engine), must be found with its exact value.

The table grew from probes of contexts nobody here wrote rules for first (database clients,
archive and key tools, remote-access clients, SQL, PowerShell, DSLs, env-prefixed commands):
each miss became a general rule from the tool's documented syntax, and stays here so no later
change loses it. Values are fakes (``tests.fakes``); ``{s}`` marks where the value goes.
"""
from __future__ import annotations

import base64

import pytest

from scanner.detect import Detector
from scanner.history.scan import scan_history
from scanner.rules import builtin_rules
from tests.fakes import fake
from tests.git_helpers import GitRepo

CONTEXTS: list[tuple[str, str]] = [
    # (file name, text)
    ("app.php", "<?php\n$config = array(\n  'db_password' => '{s}',\n);\n"),
    ("mailer.php", "<?php\n$mail->Password = '{s}';\n"),
    ("config.rb", "config = {{ username: 'deploy', password: '{s}' }}\n"),
    ("main.go", "cfg := Config{{\n\tUser: \"svc\",\n\tPassword: \"{s}\",\n}}\n"),
    ("Db.java", "ds.setPassword(\"{s}\");\n"),
    ("Client.java", "client = Client.builder().withApiKey(\"{s}\").build();\n"),
    ("Net.cs", "var cred = new NetworkCredential(\"svc\", \"{s}\");\n"),
    ("deploy.ps1", "$pw = ConvertTo-SecureString \"{s}\" -AsPlainText -Force\n"),
    ("provision.ps1", "$pw = ConvertTo-SecureString -AsPlainText -Force -String '{s}'\n"),
    ("setup.bat", "net user backup {s} /add\n"),
    ("users.sql", "CREATE USER 'app'@'%' IDENTIFIED BY '{s}';\n"),
    ("roles.sql", "ALTER USER app WITH PASSWORD '{s}';\n"),
    ("logins.sql", "CREATE LOGIN svc_etl WITH PASSWORD = '{s}';\n"),
    ("vars.yml", "ansible_become_password: {s}\n"),
    ("deploy.yaml", "env:\n  - name: DB_PASSWORD\n    value: \"{s}\"\n"),
    ("cache.sh", "redis-cli -h cache.internal -a {s} ping\n"),
    ("db.sh", "mysql -u root -p{s} -h db.internal\n"),
    ("secret.sh", "kubectl create secret generic db --from-literal=password={s}\n"),
    ("psql.sh", "PGPASSWORD={s} psql -h db -U app\n"),
    ("remote.bat", "psexec \\\\host -u admin -p {s} cmd\n"),
    ("config.h", "#define API_KEY \"{s}\"\n"),
    ("Module1.vb", "Dim password As String = \"{s}\"\n"),
    ("settings.properties", "spring.datasource.password={s}\n"),
    ("db.ini", "[database]\npassword = {s}\n"),
    ("main.tf", "resource \"x\" \"y\" {{\n  admin_password = \"{s}\"\n}}\n"),
    ("conn.xml", "<connection user=\"svc\" password=\"{s}\"/>\n"),
    ("Dockerfile", "ENV DB_PASSWORD={s}\n"),
    ("docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {s}\n"),
    ("store.go", "db, err := sql.Open(\"mysql\", \"app:{s}@tcp(db.internal:3306)/shop\")\n"),
    ("azure.sh", "az login -u ops@contoso.com -p {s}\n"),
    ("mssql.sh", "sqlcmd -S db.internal -U sa -P {s} -Q \"SELECT 1\"\n"),
    ("mongo.sh", "mongo --host db -u admin -p {s} --authenticationDatabase admin\n"),
    ("backup.sh", "zip -P {s} backup.zip db.sql\n"),
    ("archive.sh", "7z a -p{s} backup.7z db.sql\n"),
    ("pkcs12.sh", "openssl pkcs12 -export -in c.pem -inkey k.pem -out c.p12 -passout pass:{s}\n"),
    ("keystore.sh", "keytool -importkeystore -srckeystore a.jks -srcstorepass {s} -destkeystore b.p12\n"),
    ("decrypt.sh", "gpg --batch --passphrase {s} -d secrets.gpg\n"),
    ("rabbit.sh", "rabbitmqctl add_user deploy {s}\n"),
    ("web.sh", "htpasswd -b /etc/nginx/.htpasswd admin {s}\n"),
    ("apt.sh", "echo {s} | sudo -S apt-get update\n"),
    ("users.sh", "echo 'deploy:{s}' | chpasswd\n"),
    ("share.sh", "smbclient //fs/share -U backup%{s}\n"),
    ("rdp.sh", "xfreerdp /v:host /u:admin /p:{s}\n"),
    ("sync.sh", "lftp -u deploy,{s} sftp://files.internal\n"),
    ("keys.sh", "ssh-keygen -t ed25519 -N '{s}' -f id_deploy\n"),
    ("mount.sh", "mount -t cifs //fs/s /mnt/s -o username=backup,password={s},vers=3.0\n"),
    ("registry.sh", "echo \"{s}\" | docker login -u ci --password-stdin registry.corp.io\n"),
    ("build.gradle", "credentials {{\n    username 'deploy'\n    password '{s}'\n}}\n"),
    ("settings.xml", "<server>\n  <id>internal</id>\n  <password>{s}</password>\n</server>\n"),
    ("main.yml", "      - run: |\n          EMAIL=ops@corp.io AUTH_TOKEN={s} ./report\n"),
    ("vault.sh", "vault kv put secret/app password={s}\n"),
    ("install.sh", "helm install app ./chart --set db.password={s}\n"),
    ("run.sh", "docker run -e POSTGRES_PASSWORD={s} -d postgres:16\n"),
    ("release.sh", "heroku config:set SECRET_KEY={s} -a app\n"),
    ("login.sh", "curl -d \"username=admin&password={s}\" https://app.internal/login\n"),
    ("fstab", "//fs/share /mnt/share cifs username=backup,password={s},vers=3.0 0 0\n"),
    ("ssh.sh", "SSHPASS={s} sshpass -e ssh deploy@host\n"),
    ("haproxy.cfg", "userlist admins\n  user admin insecure-password {s}\n"),
    ("wpa_supplicant.conf", "network={{\n  ssid=\"corp\"\n  psk=\"{s}\"\n}}\n"),
    ("postfix/sasl_passwd", "[smtp.gmail.com]:587 ops@corp.io:{s}\n"),
    ("ci.sh", "gh secret set API_TOKEN --body {s}\n"),
    ("npm.sh", "npm config set //registry.internal/:_password {s}\n"),
    ("rds.sh", "aws rds create-db-instance --db-instance-identifier app --master-user-password {s}\n"),
    ("api.postman_collection.json", "{{\"key\": \"X-API-Key\", \"value\": \"{s}\", \"type\": \"text\"}}\n"),
    ("secrets.rb", "ENV['SECRET_KEY_BASE'] ||= '{s}'\n"),
    ("Startup.cs", "Environment.SetEnvironmentVariable(\"API_KEY\", \"{s}\");\n"),
    ("db.xml", "<password><![CDATA[{s}]]></password>\n"),
    # the fourth probe (2026-12-07): directives, fallbacks, header directives, C copies, Lisp
    # keywords, SQL seeds, expect scripts, daemon and device configs
    ("login.exp", "spawn ssh admin@10.0.0.5\nexpect \"password:\"\nsend \"{s}\\r\"\n"),
    ("deploy.py", "child.expect('Password:')\nchild.sendline('{s}')\n"),
    ("config.fish", "set -gx API_TOKEN {s}\n"),
    ("env.fish", "set -x DB_PASSWORD {s}\n"),
    ("Makefile", "API_TOKEN ?= {s}\n"),
    ("rules.mk", "export DB_PASSWORD := {s}\n"),
    ("app.service", "[Service]\nEnvironment=\"API_KEY={s}\"\n"),
    ("worker.service", "[Service]\nEnvironment=DB_PASSWORD={s}\n"),
    ("httpd.conf", "SetEnv DB_PASS {s}\n"),
    ("env.cmd", "SET \"API_KEY={s}\"\n"),
    ("www.conf", "env[DB_PASSWORD] = {s}\n"),
    ("site.conf", "proxy_set_header X-Api-Key {s};\n"),
    ("vhost.conf", "RequestHeader set Authorization \"Bearer {s}\"\n"),
    ("Api.swift", "request.setValue(\"Bearer {s}\", forHTTPHeaderField: \"Authorization\")\n"),
    ("Keys.swift", "request.setValue(\"{s}\", forHTTPHeaderField: \"X-Api-Key\")\n"),
    ("docker-compose.yaml", "    environment:\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD:-{s}}}\n"),
    ("Props.java", "@Value(\"${{db.password:{s}}}\")\n"),
    ("app.rb", "api_key = ENV.fetch('API_KEY', '{s}')\n"),
    ("Ok.kt", "val credential = Credentials.basic(\"admin\", \"{s}\")\n"),
    ("client.rs", ".basic_auth(\"admin\", Some(\"{s}\"))\n"),
    ("guzzle.php", "$client->request('GET', $url, ['auth' => ['admin', '{s}']]);\n"),
    ("core.clj", "(def config {{:password \"{s}\"}})\n"),
    ("conn.c", "strcpy(cfg.password, \"{s}\");\n"),
    ("wifi.ino", "WiFi.begin(\"corpnet\", \"{s}\");\n"),
    ("seed.sql", "INSERT INTO users (username, password) VALUES ('admin', '{s}');\n"),
    ("slapd.conf", "rootpw {s}\n"),
    ("nslcd.conf", "binddn cn=svc,dc=corp\nbindpw {s}\n"),
    ("mosquitto.conf", "bridge_password {s}\n"),
    ("keepalived.conf", "    authentication {{\n        auth_type PASS\n        auth_pass {s}\n    }}\n"),
    ("router.cfg", "enable secret 0 {s}\n"),
    ("client.ovpn", "<auth-user-pass>\ndeploy\n{s}\n</auth-user-pass>\n"),
    # the fifth probe (2026-12-07): XML and plist entries, YAML anchors and block scalars, tuples,
    # brace initialisers, Android Gradle fields, single-dash parameters, Windows commands, config
    # setters, env fallbacks of other languages, Ansible inventories
    ("strings.xml", "<resources>\n    <string name=\"api_key\">{s}</string>\n</resources>\n"),
    ("props.xml", "<entry key=\"db.password\">{s}</entry>\n"),
    ("Info.plist", "<dict>\n\t<key>APIKey</key>\n\t<string>{s}</string>\n</dict>\n"),
    ("vars.yml", "db_password: &pw {s}\n"),
    ("tags.yml", "db_password: !!str {s}\n"),
    ("values.yaml", "auth:\n  password: |\n    {s}\n"),
    ("sys.config", "[{{app, [{{password, \"{s}\"}}]}}].\n"),
    ("keys.cpp", "const std::string kApiKey{{\"{s}\"}};\n"),
    ("build.gradle", "buildConfigField \"String\", \"API_KEY\", \"\\\"{s}\\\"\"\n"),
    ("Connect.ps1", "Connect-Service -Server api.corp.io -ApiKey \"{s}\"\n"),
    ("curl.sh", "curl --oauth2-bearer {s} https://api.corp.io/v1/me\n"),
    ("creds.bat", "cmdkey /add:fileserver /user:CORP\\backup /pass:{s}\n"),
    ("task.bat", "schtasks /create /tn backup /tr backup.cmd /sc daily /ru CORP\\svc /rp {s}\n"),
    ("share.bat", "net use \\\\fs01\\share {s} /user:CORP\\backup\n"),
    ("deploy.sh", "pulumi config set dbPassword {s}\n"),
    ("main.rs", "let key = std::env::var(\"API_KEY\").unwrap_or(\"{s}\".to_string());\n"),
    ("Config.swift", "let key = ProcessInfo.processInfo.environment[\"API_KEY\"] ?? \"{s}\"\n"),
    ("settings.py", "SECRET_KEY = config('SECRET_KEY', default='{s}')\n"),
    ("hosts.ini", "[web]\nweb1 ansible_host=10.0.0.5 ansible_user=deploy ansible_password={s}\n"),
    # the sixth probe (2026-12-07): argument lists (MCP servers' args), name/value lists, Perl's
    # %ENV, literals echoed into secret-named files and profiles, API keys in URL queries
    ("mcp.json", "{{\"mcpServers\": {{\"api\": {{\"args\": [\"--token\", \"{s}\"]}}}}}}\n"),
    ("session.har", "{{\"name\": \"Authorization\", \"value\": \"Bearer {s}\"}}\n"),
    ("env.pl", "$ENV{{'API_TOKEN'}} = '{s}';\n"),
    ("token.sh", "printf \"%s\" \"{s}\" > ~/.config/app/token\n"),
    ("profile.sh", "echo \"export API_KEY={s}\" >> ~/.bashrc\n"),
    ("pw.sh", "echo \"{s}\" > /etc/app/db_password\n"),
    ("query.sh", "curl \"https://api.corp.io/v1/data?apikey={s}\"\n"),
    # the seventh probe: JVM build tools, Elixir, Lua, R, Julia, Nix, mail clients, Tomcat, prose
    ("Main.kt", 'val apiKey = "{s}"\n'),
    ("Config.scala", 'val dbPassword = "{s}"\n'),
    ("build.sbt", 'credentials += Credentials("Artifactory Realm", "repo.corp.io", "deploy", "{s}")\n'),
    ("Jenkinsfile", "environment {{\n    DEPLOY_TOKEN = '{s}'\n}}\n"),
    ("config.dart", "const String apiKey = '{s}';\n"),
    ("config.exs", 'config :my_app, MyApp.Repo,\n  username: "postgres",\n  password: "{s}"\n'),
    ("prod.exs", 'config :stripity_stripe, api_key: "{s}"\n'),
    ("init.lua", 'local token = "{s}"\n'),
    ("setup.R", 'Sys.setenv(API_KEY = "{s}")\n'),
    ("run.jl", 'ENV["API_TOKEN"] = "{s}"\n'),
    ("script.pl", "my $password = '{s}';\n"),
    ("Main.hs", 'apiToken = "{s}"\n'),
    ("config.nix", '  services.foo.password = "{s}";\n'),
    ("vars.tf", 'variable "db_password" {{\n  default = "{s}"\n}}\n'),
    ("prod.tfvars", 'db_password = "{s}"\n'),
    ("values.yaml", "postgresql:\n  auth:\n    password: {s}\n"),
    ("helm.sh", "helm install app ./chart --set postgresql.auth.password={s}\n"),
    ("docker.sh", "docker run -e POSTGRES_PASSWORD={s} postgres:16\n"),
    ("login.sh", "echo {s} | docker login -u deploy --password-stdin registry.corp.io\n"),
    ("dl.sh", "docker login -u deploy -p {s} registry.corp.io\n"),
    ("ssh.sh", "sshpass -p '{s}' ssh deploy@host.corp.io\n"),
    ("cert.sh", "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:{s}\n"),
    ("jks.sh", "keytool -importkeystore -srcstorepass {s} -deststorepass changeit\n"),
    ("zip.sh", "zip -P {s} backup.zip db.sql\n"),
    ("smb.sh", "smbclient //fs/share -U backup%{s}\n"),
    ("pg.sh", "PGPASSWORD={s} psql -h db.corp.io -U app\n"),
    ("az.sh", "az login --service-principal -u 1b2c3d4e-1111-2222-3333-444455556666 -p {s} --tenant corp.onmicrosoft.com\n"),
    ("aws.sh", "aws configure set aws_secret_access_key {s}\n"),
    (".my.cnf", "[client]\nuser=app\npassword={s}\n"),
    (".muttrc", 'set imap_pass = "{s}"\n'),
    (".fetchmailrc", 'poll mail.corp.io protocol imap user "me" password "{s}"\n'),
    (".msmtprc", "account default\nhost smtp.corp.io\nuser me\npassword {s}\n"),
    ("offlineimaprc", "[Repository Remote]\nremotepass = {s}\n"),
    ("app.ini", "[database]\nPASSWD = {s}\n"),
    ("web.config", '<add name="Db" connectionString="Server=db;Database=app;User Id=sa;Password={s};" />\n'),
    ("appsettings.json", '{{"ConnectionStrings": {{"Default": "Server=db;Database=app;User Id=app;Password={s};"}}}}\n'),
    ("odbc.ini", "[app]\nDriver=PostgreSQL\nUID=app\nPWD={s}\n"),
    ("Jdbc.java", 'DriverManager.getConnection("jdbc:mysql://db:3306/app", "app", "{s}");\n'),
    ("conn.py", 'conn = psycopg2.connect(host="db", user="app", password="{s}")\n'),
    ("mongo.py", "client = MongoClient('db', username='app', password='{s}')\n"),
    ("auth.py", "auth = HTTPBasicAuth('svc', '{s}')\n"),
    ("notebook.ipynb", '{{"cells": [{{"source": ["openai.api_key = \\"{s}\\"\\n"]}}]}}\n'),
    ("app.reg", '[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\App]\n"Password"="{s}"\n'),
    ("gradle.properties", "systemProp.http.proxyPassword={s}\n"),
    ("deploy.groovy", 'def token = "{s}"\n'),
    (".s3cfg", "[default]\naccess_key = AKIAIOSFODNN7ABCDEFG\nsecret_key = {s}\n"),
    ("rclone.conf", "[remote]\ntype = sftp\nhost = fs.corp.io\nuser = me\npass = {s}\n"),
    ("config.toml", '[database]\npassword = "{s}"\n'),
    ("Settings.cs", 'private const string ApiKey = "{s}";\n'),
    ("main.cpp", 'const char* kPassword = "{s}";\n'),
    ("app.js", "const client = new Client({{ apiKey: '{s}' }});\n"),
    ("fetch.js", "fetch(url, {{ headers: {{ 'x-api-key': '{s}' }} }})\n"),
    ("axios.ts", "axios.defaults.headers.common['Authorization'] = 'Bearer {s}';\n"),
    ("env.ts", "process.env.API_TOKEN ??= '{s}';\n"),
    ("linked.sql", "EXEC sp_addlinkedsrvlogin @rmtsrvname='REMOTE', @useself='false', @rmtuser='sa', @rmtpassword='{s}';\n"),
    ("key.sh", "export OPENAI_KEY={s}\n"),
    ("secret.yaml", "apiVersion: v1\nkind: Secret\nstringData:\n  password: {s}\n"),
    ("compose.yml", "services:\n  db:\n    environment:\n      - MYSQL_ROOT_PASSWORD={s}\n"),
    ("gh.yml", "    steps:\n      - uses: some/action@v1\n        with:\n          api-token: {s}\n"),
    ("wp-config.php", "define( 'DB_PASSWORD', '{s}' );\n"),
    ("database.yml", "production:\n  adapter: postgresql\n  password: <%= ENV.fetch('DB_PASSWORD', '{s}') %>\n"),
    ("settings.py", "DATABASES = {{'default': {{'ENGINE': 'django.db.backends.postgresql', 'PASSWORD': '{s}'}}}}\n"),
    ("application.yml", "spring:\n  datasource:\n    password: {s}\n"),
    ("pom.xml", "<properties>\n  <db.password>{s}</db.password>\n</properties>\n"),
    ("hibernate.cfg.xml", '<property name="hibernate.connection.password">{s}</property>\n'),
    ("context.xml", '<Resource name="jdbc/app" username="app" password="{s}" />\n'),
    ("tomcat-users.xml", '<user username="admin" password="{s}" roles="manager-gui"/>\n'),
    ("server.xml", '<Connector port="8443" keystorePass="{s}" />\n'),
    ("standalone.xml", "<security-domain>\n  <password>{s}</password>\n</security-domain>\n"),
    ("redis.conf", "requirepass {s}\n"),
    ("pgbouncer.ini", '[databases]\napp = host=db dbname=app user=app password={s}\n'),
    ("proxy.sh", "export https_proxy=http://me:{s}@proxy.corp.io:3128\n"),
    ("cred.txt", "Username: admin\nPassword: {s}\n"),
    ("notes.txt", "The wifi password is {s}\n"),
    ("main.py", "client = OpenAI(api_key=\"{s}\")\n"),
    ("mail.py", "server.login('me@corp.io', '{s}')\n"),
    ("ftp.py", "ftp.login(user='backup', passwd='{s}')\n"),
    ("ssh.py", "client.connect('host', username='deploy', password='{s}')\n"),
    ("Net.go", 'req.SetBasicAuth("svc", "{s}")\n'),
    ("auth.go", 'req.Header.Set("X-Api-Key", "{s}")\n'),
    ("Http.java", 'conn.setRequestProperty("Authorization", "Token {s}");\n'),
    ("client.cs", 'client.DefaultRequestHeaders.Add("X-API-KEY", "{s}");\n'),
    ("hook.php", "curl_setopt($ch, CURLOPT_USERPWD, 'svc:{s}');\n"),
    ("users.csv", "username,password,email\nadmin,{s},admin@corp.io\n"),
    # the eighth probe: build DSLs, config management, CI files, client configs, CLIs fed on stdin
    ("build.gradle", "repositories {{\n  maven {{\n    credentials {{\n      username 'deploy'\n      password '{s}'\n    }}\n  }}\n}}\n"),
    ("build.gradle.kts", 'credentials {{\n    username = "deploy"\n    password = "{s}"\n}}\n'),
    ("site.pp", "user {{ 'deploy':\n  ensure   => present,\n  password => '{s}',\n}}\n"),
    ("default.rb", "user 'deploy' do\n  password '{s}'\nend\n"),
    ("Vagrantfile", 'config.ssh.password = "{s}"\n'),
    ("packer.json", '{{"builders": [{{"ssh_password": "{s}"}}]}}\n'),
    ("main.tf", 'provider "aws" {{\n  region     = "us-east-1"\n  secret_key = "{s}"\n}}\n'),
    (".terraformrc", 'credentials "app.terraform.io" {{\n  token = "{s}"\n}}\n'),
    ("hosts.yml", "github.com:\n    oauth_token: {s}\n    user: me\n"),
    (".gitlab-ci.yml", "variables:\n  DEPLOY_TOKEN: {s}\n"),
    ("deploy.yml", "      - uses: docker/login-action@v3\n        with:\n          username: deploy\n          password: {s}\n"),
    (".travis.yml", "deploy:\n  provider: pypi\n  user: me\n  password: {s}\n"),
    ("kubeconfig", "users:\n- name: admin\n  user:\n    token: {s}\n"),
    ("credentials.toml", '[registry]\ntoken = "{s}"\n'),
    ("auth.json", '{{"http-basic": {{"repo.corp.io": {{"username": "deploy", "password": "{s}"}}}}}}\n'),
    ("settings.json", '{{"sqltools.connections": [{{"name": "prod", "server": "db", "username": "app", "password": "{s}"}}]}}\n'),
    ("dataSources.local.xml", '<data-source name="prod">\n  <user-name>app</user-name>\n  <password>{s}</password>\n</data-source>\n'),
    ("env.json", '{{"values": [{{"key": "apiKey", "value": "{s}", "enabled": true}}]}}\n'),
    ("pillar.sls", "mysql:\n  server:\n    root_password: {s}\n"),
    ("group_vars.yml", "vault_db_password: {s}\n"),
    ("docker-compose.yml", "services:\n  app:\n    environment:\n      DATABASE_URL: postgres://app:{s}@db.corp.io:5432/app\n"),
    ("requirements.txt", "--extra-index-url https://deploy:{s}@pypi.corp.io/simple\n"),
    ("Gemfile", "source 'https://deploy:{s}@gems.corp.io/'\n"),
    ("go.sh", "git config --global url.\"https://deploy:{s}@git.corp.io/\".insteadOf \"https://git.corp.io/\"\n"),
    ("pom.xml", "<server>\n  <id>nexus</id>\n  <username>deploy</username>\n  <password>{s}</password>\n</server>\n"),
    ("Program.cs", 'var conn = new SqlConnection("Data Source=db;Initial Catalog=app;User ID=sa;Password={s}");\n'),
    ("app.config", '<add key="SmtpPassword" value="{s}" />\n'),
    ("Web.Release.config", '<add key="ApiKey" value="{s}" xdt:Transform="SetAttributes" />\n'),
    ("config.js", "module.exports = {{ db: {{ user: 'app', password: '{s}' }} }};\n"),
    ("firebase.js", "const firebaseConfig = {{ apiKey: \"{s}\", authDomain: \"app.firebaseapp.com\" }};\n"),
    ("secrets.env", "SLACK_BOT_TOKEN={s}\n"),
    ("cfg.ini", "[smtp]\nuser = mailer\npass = {s}\n"),
    ("my.yaml", "mail:\n  smtp:\n    password: \"{s}\"\n"),
    ("t.go", 'const apiSecret = "{s}"\n'),
    ("t.swift", 'let clientSecret = "{s}"\n'),
    ("t.m", '#define API_TOKEN @"{s}"\n'),
    ("t.rs", 'const API_KEY: &str = "{s}";\n'),
    ("t.java", 'private static final String DB_PASSWORD = "{s}";\n'),
    ("t.php", "$apiKey = getenv('API_KEY') ?: '{s}';\n"),
    ("t.ps1", "$env:API_TOKEN = '{s}'\n"),
    ("t.bat", "set API_TOKEN={s}\n"),
    ("t.py", "os.environ['DB_PASSWORD'] = '{s}'\n"),
    ("settings_local.py", "os.environ.setdefault('SECRET_KEY', '{s}')\n"),
    ("t.js", "process.env.DB_PASSWORD = '{s}';\n"),
    ("t.yaml", "- name: db\n  password: !!str {s}\n"),
    ("t.xml", '<credentials user="deploy" pass="{s}"/>\n'),
    ("t.sh", "curl -H \"X-Auth-Token: {s}\" https://api.corp.io\n"),
    ("t2.sh", "wget --password={s} --user=deploy https://files.corp.io/a\n"),
    ("t4.sh", "mongodump --uri mongodb://app:{s}@db.corp.io/app\n"),
    ("t5.sh", "ldapsearch -x -D cn=admin,dc=corp -w {s} -b dc=corp\n"),
    ("t6.sh", "mysqldump --password={s} app > dump.sql\n"),
    ("t7.sh", "htpasswd -b -c .htpasswd admin {s}\n"),
    ("t8.sh", "vault login {s}\n"),
    ("t9.sh", "gh auth login --with-token <<< {s}\n"),
    ("t10.sh", "npm config set //registry.npmjs.org/:_authToken {s}\n"),
    ("t11.sh", "heroku config:set API_KEY={s}\n"),
    ("t12.sh", "fly secrets set DATABASE_PASSWORD={s}\n"),
    ("t13.sh", "gcloud secrets versions add db --data-file=- <<< '{s}'\n"),
    ("t14.sh", "kubectl create secret docker-registry reg --docker-username=deploy --docker-password={s}\n"),
    ("t15.sh", "vercel env add API_KEY production <<< {s}\n"),
    ("t16.sh", "gh secret set API_TOKEN --body {s}\n"),
    ("ldap.py", "conn.simple_bind_s('cn=admin,dc=corp,dc=io', '{s}')\n"),
    ("old.env", "# DB_PASSWORD={s}\n"),
    ("settings.ini", "[db]\n; password = {s}\n"),
    # the ninth probe: URLs of other schemes, brokers, signing keys, service configs
    ("cam.py", 'stream = cv2.VideoCapture("rtsp://admin:{s}@192.168.1.64:554/Streaming/Channels/101")\n'),
    ("sip.conf", "register => 1001:{s}@sip.provider.net/1001\n"),
    ("smb.sh", "mount -t cifs //fs.corp.io/share /mnt -o username=backup,password={s}\n"),
    ("smb2.py", 'url = "smb://backup:{s}@fs.corp.io/share"\n'),
    ("ssh.txt", "ssh://deploy:{s}@git.corp.io:2222/repo.git\n"),
    ("ldap.py", 'LDAP_URL = "ldaps://cn=admin,dc=corp:{s}@ldap.corp.io"\n'),
    ("jdbc.properties", "url=jdbc:sqlserver://db.corp.io:1433;databaseName=app;user=app;password={s};\n"),
    ("remote.sh", "git remote add origin https://oauth2:{s}@gitlab.corp.io/team/app.git\n"),
    ("clone.sh", "git clone https://x-access-token:{s}@github.com/corp/app.git\n"),
    ("token-user.sh", "git clone https://{s}@github.com/corp/private.git\n"),
    ("ftp.py", 'ftp_url = "ftp://upload:{s}@ftp.corp.io/incoming"\n'),
    ("proxy.conf", "Acquire::http::Proxy \"http://me:{s}@proxy.corp.io:3128/\";\n"),
    ("pip.conf", "[global]\nindex-url = https://deploy:{s}@pypi.corp.io/simple\n"),
    ("settings.gradle", 'maven {{ url "https://deploy:{s}@repo.corp.io/maven2" }}\n'),
    ("webhook.py", 'requests.post("https://api.corp.io/hooks/incoming?token={s}", json=msg)\n'),
    ("redis.py", "r = redis.Redis(host='cache', port=6379, password='{s}')\n"),
    ("mq.py", "credentials = pika.PlainCredentials('app', '{s}')\n"),
    ("kafka.properties", 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="app" password="{s}";\n'),
    ("es.py", "es = Elasticsearch('https://es.corp.io:9200', basic_auth=('elastic', '{s}'))\n"),
    ("boto.py", "s3 = boto3.client('s3', aws_access_key_id='AKIAQWERTYUIOPASDFGH', aws_secret_access_key='{s}')\n"),
    ("smtp.py", "EMAIL_HOST_PASSWORD = '{s}'\n"),
    ("jwt.py", "jwt.encode(payload, '{s}', algorithm='HS256')\n"),
    ("flask.py", "app.config['SECRET_KEY'] = '{s}'\n"),
    ("express.js", "app.use(session({{ secret: '{s}', resave: false }}))\n"),
    ("crypto.js", "const cipher = crypto.createCipheriv('aes-256-cbc', '{s}', iv);\n"),
    ("hmac.go", 'mac := hmac.New(sha256.New, []byte("{s}"))\n'),
    ("Startup.java", 'Jwts.builder().signWith(SignatureAlgorithm.HS256, "{s}")\n'),
    ("passport.js", "new JwtStrategy({{ secretOrKey: '{s}' }}, verify)\n"),
    ("nextauth.ts", "export default NextAuth({{ secret: '{s}', providers }})\n"),
    ("oauth.py", "oauth.register('corp', client_id='corp-app', client_secret='{s}')\n"),
    ("keycloak.json", '{{"realm": "corp", "resource": "app", "credentials": {{"secret": "{s}"}}}}\n'),
    ("appsettings.Development.json", '{{"AzureAd": {{"ClientSecret": "{s}"}}}}\n'),
    ("terraform.tfstate", '{{"attributes": {{"password": "{s}", "username": "admin"}}}}\n'),
    ("vault.hcl", 'seal "transit" {{\n  token = "{s}"\n}}\n'),
    ("nomad.hcl", 'acl {{\n  enabled = true\n}}\nconsul {{\n  token = "{s}"\n}}\n'),
    ("grafana.ini", "[security]\nadmin_password = {s}\n"),
    ("sentinel.conf", "sentinel auth-pass mymaster {s}\n"),
    ("pgbouncer/userlist.txt", '"app" "{s}"\n'),
    ("squid.conf", "cache_peer parent.corp.io parent 3128 0 login=me:{s}\n"),
    # the tenth probe: Kubernetes, IaC, OS installers, CI and platform files
    ("configmap.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  API_TOKEN: \"{s}\"\n"),
    ("deployment.yaml", "        env:\n        - name: STRIPE_SECRET\n          value: {s}\n"),
    ("kustomization.yaml", "secretGenerator:\n- name: app\n  literals:\n  - password={s}\n"),
    ("values.yaml", "redis:\n  auth:\n    enabled: true\n    password: \"{s}\"\n"),
    ("argocd.yaml", "  repositories: |\n    - url: https://git.corp.io/app.git\n      password: {s}\n      username: deploy\n"),
    ("docker-compose.yml", "  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: {s}\n"),
    ("task.json", '{{"containerDefinitions": [{{"environment": [{{"name": "DB_PASSWORD", "value": "{s}"}}]}}]}}\n'),
    ("template.yaml", "Parameters:\n  DBPassword:\n    Type: String\n    NoEcho: true\n    Default: {s}\n"),
    ("serverless.yml", "provider:\n  environment:\n    API_SECRET: {s}\n"),
    ("main.bicep", "param adminPassword string = '{s}'\n"),
    ("azuredeploy.json", '{{"parameters": {{"adminPassword": {{"value": "{s}"}}}}}}\n'),
    ("playbook.yml", "- mysql_user:\n    name: app\n    password: {s}\n"),
    ("inventory.yml", "all:\n  vars:\n    ansible_ssh_pass: {s}\n"),
    ("cloud-init.yaml", "#cloud-config\nchpasswd:\n  list: |\n    root:{s}\n  expire: false\n"),
    ("user-data.sh", "echo 'ubuntu:{s}' | chpasswd\n"),
    ("preseed.cfg", "d-i passwd/root-password password {s}\n"),
    ("ks.cfg", "rootpw --plaintext {s}\n"),
    ("autounattend.xml", "<AdministratorPassword>\n  <Value>{s}</Value>\n  <PlainText>true</PlainText>\n</AdministratorPassword>\n"),
    (".gitlab-ci.yml", "deploy:\n  script:\n    - curl -u deploy:{s} https://nexus.corp.io/upload\n"),
    ("Jenkinsfile", "sh 'docker login -u deploy -p {s} registry.corp.io'\n"),
    ("azure-pipelines.yml", "variables:\n  dbPassword: '{s}'\n"),
    (".circleci/config.yml", "    environment:\n      NPM_TOKEN: {s}\n"),
    ("bitbucket-pipelines.yml", "          - export SONAR_TOKEN={s}\n"),
    ("netlify.toml", '[build.environment]\n  API_SECRET = "{s}"\n'),
    ("vercel.json", '{{"env": {{"DATABASE_PASSWORD": "{s}"}}}}\n'),
    ("fly.toml", "[env]\n  SECRET_KEY_BASE = \"{s}\"\n"),
    ("app.yaml", "env_variables:\n  DB_PASS: '{s}'\n"),
    # the eleventh probe: data science, Office macros, game engines, mobile builds, admin scripts
    ("analysis.R", 'con <- dbConnect(RPostgres::Postgres(), host = "db", user = "app", password = "{s}")\n'),
    ("load.m", "conn = database('prod', 'app', '{s}');\n"),
    ("etl.sas", 'libname db odbc dsn=prod user=app password="{s}";\n'),
    ("Module1.bas", 'ws.Unprotect Password:="{s}"\n'),
    ("macro.vba", 'conn.Open "Provider=SQLOLEDB;Data Source=db;User ID=sa;Password={s};"\n'),
    ("DefaultEngine.ini", "[OnlineSubsystemSteam]\nSteamDevAppId=480\nSteamWebApiKey={s}\n"),
    ("GameConfig.cs", 'public const string ApiSecret = "{s}";\n'),
    ("local.properties", "sdk.dir=/opt/android\nMAPS_API_KEY={s}\n"),
    ("gradle.properties", "signing.password={s}\n"),
    ("keystore.properties", "storePassword={s}\nkeyPassword={s}\n"),
    ("Info.plist", "<key>APIToken</key>\n<string>{s}</string>\n"),
    ("GoogleService-Info.plist", "<key>API_KEY</key>\n<string>{s}</string>\n"),
    ("app.json", '{{"expo": {{"extra": {{"apiSecret": "{s}"}}}}}}\n'),
    ("pubspec.yaml", "flutter_dotenv:\n  api_token: {s}\n"),
    ("Podfile", "ENV['COCOAPODS_TRUNK_TOKEN'] = '{s}'\n"),
    ("fastlane/Appfile", 'ENV["FASTLANE_PASSWORD"] = "{s}"\n'),
    ("Matchfile", 'ENV["MATCH_PASSWORD"] = "{s}"\n'),
    ("docker.sh", 'docker exec db mysql -uroot -p"{s}" -e "show databases"\n'),
    ("psql.sh", 'psql "host=db dbname=app user=app password={s}"\n'),
    ("sqlcmd.bat", "sqlcmd -S db -U sa -P {s} -Q \"SELECT 1\"\n"),
    ("Invoke.ps1", 'Invoke-Sqlcmd -ServerInstance db -Username sa -Password "{s}" -Query "SELECT 1"\n'),
    ("cred.ps1", "$cred = New-Object System.Management.Automation.PSCredential('admin', (ConvertTo-SecureString '{s}' -AsPlainText -Force))\n"),
    ("ad.ps1", "Set-ADAccountPassword -Identity svc -NewPassword (ConvertTo-SecureString -AsPlainText '{s}' -Force)\n"),
    ("winrm.py", "session = winrm.Session('host', auth=('administrator', '{s}'))\n"),
    ("paramiko.py", "ssh.connect(hostname='host', username='root', password='{s}')\n"),
    ("fabfile.py", "env.password = '{s}'\n"),
    ("ansible.cfg", "[defaults]\nvault_password_file = ./pw.txt\nbecome_pass = {s}\n"),
    ("salt.conf", "mysql.pass: '{s}'\n"),
    ("chef.json", '{{"mysql": {{"server_root_password": "{s}"}}}}\n'),
    # twelfth probe: process and CI command lines, editor data sources, daemons' own configs
    ("Procfile", "web: DATABASE_PASSWORD={s} bundle exec puma\n"),
    (".gitlab-ci.yml", "deploy:\n  script: API_TOKEN={s} make deploy\n"),
    ("Dockerfile", "RUN NPM_TOKEN={s} npm ci\n"),
    (".vscode/settings.json", '{{"sqltools.connections": [{{"driver": "PostgreSQL", "username": "app", "password": "{s}"}}]}}\n'),
    ("docker-compose.yml", "services:\n  db:\n    environment:\n      - MYSQL_ROOT_PASSWORD={s}\n"),
    ("values.yaml", "auth:\n  rootPassword: {s}\n"),
    ("mosquitto.conf", "bridge_password {s}\n"),
    ("prometheus.yml", "basic_auth:\n  username: admin\n  password: {s}\n"),
    ("grafana.ini", "[security]\nadmin_password = {s}\n"),
    ("fluent.conf", "<match **>\n  @type elasticsearch\n  password {s}\n</match>\n"),
    ("logstash.conf", 'output {{ elasticsearch {{ user => "elastic" password => "{s}" }} }}\n'),
    (".mcp.json", '{{"mcpServers": {{"x": {{"command": "docker", "args": ["run", "-i", "-e", "X_TOKEN={s}", "x/mcp"]}}}}}}\n'),
    # fourteenth probe: client stores and connection files
    ("sitemanager.xml", "<Server><Host>ftp.example.com</Host><User>deploy</User><Pass>{s}</Pass></Server>\n"),
    ("auth/svn.simple/5671adf2865e267db74f09ba6f872c28",
     "K 8\npasstype\nV 6\nsimple\nK 8\npassword\nV 18\n{s}\nK 8\nusername\nV 6\ndeploy\nEND\n"),
    ("etc/davfs2/secrets", "https://dav.example.com/remote.php/webdav deploy {s}\n"),
    (".idea/WebServers.xml", '<fileTransfer host="ftp.example.com" port="21" accessType="FTP" login="deploy" password="{s}" />\n'),
    ("dbeaver-data-sources.xml", '<connection host="db" port="5432" database="app" user="app" password="{s}" type="prod"/>\n'),
    ("robomongo.json", '{{"credentials": [{{"userName": "app", "userPassword": "{s}", "databaseName": "admin"}}]}}\n'),
    (".smbcredentials", "username=deploy\npassword={s}\ndomain=CORP\n"),
    (".irssi/config", 'servers = ({{ address = "irc.libera.chat"; port = "6697"; password = "{s}"; }});\n'),
    (".esmtprc", 'hostname = smtp.example.com:587\nusername = "deploy"\npassword = "{s}"\n'),
    (".ftpconfig", '{{"protocol": "ftp", "host": "ftp.example.com", "user": "deploy", "pass": "{s}"}}\n'),
    ("ventrilo_srv.ini", "[Server]\nName=Clan\nAdminPassword={s}\n"),
    ("odbc.ini", "[prod]\nDriver = PostgreSQL\nServername = db\nUserName = app\nPassword = {s}\n"),
    # fifteenth probe: string forms, logs and data files
    ("app.log", "2024-01-01 12:00:00 DEBUG Connecting with password={s} to db\n"),
    ("seed.sql", "INSERT INTO settings (name, value) VALUES ('smtp_password', '{s}');\n"),
    ("login.py", 'data = [("username", "admin"), ("password", "{s}")]\n'),
    ("settings.csv", "name,value\nsmtp_password,{s}\n"),
    ("core.clj", '(def password "{s}")\n'),
    ("init.el", '(setq erc-password "{s}")\n'),
    ("config.lisp", '(defparameter *password* "{s}")\n'),
    ("Config.swift", 'let password = #"{s}"#\n'),
    ("main.rs", 'let password = r#"{s}"#;\n'),
    ("settings.toml", 'password = """{s}"""\n'),
    # sixteenth probe (stop 32): client and framework settings files
    ("odbc.ini", "[orders]\nDriver = PostgreSQL Unicode\nServername = db.internal\nUsername = reports\nPassword = {s}\n"),
    (".my.cnf", "[client]\nuser=backup\npassword={s}\n"),
    ("sites.ini", "[prod]\nhost=files.internal\nusername=deploy\npassword={s}\n"),
    # eighteenth probe (stop 32): CI, deployment and task-runner files
    ("Procfile", "web: API_KEY={s} gunicorn app:app\n"),
    ("justfile", "deploy:\n    TOKEN={s} ./deploy.sh\n"),
    ("cloudbuild.yaml", "steps:\n- name: gcr.io/cloud-builders/docker\n  env:\n  - 'API_KEY={s}'\n"),
    ("buildspec.yml", "env:\n  variables:\n    - \"DOCKERHUB_PASSWORD={s}\"\n"),
    # nineteenth probe (stop 33): a secret checked in code, C++ and Tcl declarations
    ("auth.py", "if password == \"{s}\":\n    grant()\n"),
    ("auth.js", "if (\"{s}\" === token) {{ next(); }}\n"),
    ("Login.java", "if (adminPassword.equals(\"{s}\")) {{ login(); }}\n"),
    ("check.sh", "if [ \"$API_SECRET\" != \"{s}\" ]; then exit 1; fi\n"),
    ("client.cpp", "std::string password(\"{s}\");\n"),
    ("login.exp", "set password \"{s}\"\nspawn ssh admin@host\n"),
    ("render.yaml", "services:\n  - type: web\n    envVars:\n      - key: API_TOKEN\n        value: {s}\n"),
]

_HEX = "0123456789abcdef"
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Credentials whose shape is the provider's, in the places they are written (twelfth probe):
# (file name, text with {s}, the value).
SHAPED: list[tuple[str, str, str]] = [
    (".condarc", "channels:\n  - https://conda.anaconda.org/t/{s}/private\n", fake(30, seed=9401)),
    ("requirements.txt", "--extra-index-url https://dl.cloudsmith.io/{s}/acme/python/python/simple/\n",
     fake(16, seed=9402)),
    ("ghost.js", "const api = new GhostAdminAPI({{url: 'https://blog.example.com', key: '{s}'}});\n",
     fake(24, _HEX, seed=9403) + ":" + fake(64, _HEX, seed=9404)),
    ("auth.json", '{{"bearer": {{"repo.example.org": "{s}"}}}}\n', fake(32, seed=9405)),
    (".m2/settings-security.xml", "<settingsSecurity>\n  <master>{s}</master>\n</settingsSecurity>\n",
     "{" + fake(44, _B64, seed=9406) + "}"),
    ("haproxy.cfg", "userlist admins\n  user admin password {s}\n",
     "$6$" + fake(16, seed=9407) + "$" + fake(86, seed=9408)),
    ("stack.env", "PORTAINER_KEY={s}\n", "ptr_" + fake(43, _B64, seed=9409) + "="),
    ("rancher.sh", 'curl -H "Authorization: Bearer {s}" https://rancher.example.com/v3/clusters\n',
     "token-" + fake(5, _LOWER, seed=9410) + ":" + fake(54, _LOWER, seed=9411)),
    ("nebula.tf", 'token = "{s}"\n', "dnkey-" + fake(26, seed=9412) + "-" + fake(52, seed=9413)),
    ("tts.py", "client = Client(key='{s}')\n", "sk_" + fake(48, _HEX, seed=9414)),
    ("llm.py", 'client = OpenAI(base_url=BASE, api_key="{s}")\n', "esecret_" + fake(26, _LOWER, seed=9415)),
    ("billing.py", "polar = Polar(access_token='{s}')\n", "polar_oat_" + fake(43, seed=9416)),
    # thirteenth probe: CLI sign-ins and --long token options, cluster join tokens
    ("deploy.sh", "vercel deploy --prod --token {s}\n", fake(24, seed=9417)),
    (".travis.yml", "before_install:\n  - travis login --github-token {s}\n", fake(40, _HEX, seed=9418)),
    ("sync.sh", "mytool sync --api-key={s} --region eu\n", fake(24, seed=9419)),
    ("install.sh", "curl -sfL https://get.k3s.io | K3S_URL=https://10.0.0.1:6443 K3S_TOKEN={s} sh -\n",
     "K10" + fake(64, _HEX, seed=9420) + "::server:" + fake(32, _HEX, seed=9421)),
    ("ci.sh", "bash <(curl -s https://codecov.io/bash) -t {s}\n",
     "-".join(fake(n, _HEX, seed=9422 + n) for n in (8, 4, 4, 4, 12))),
    ("setup.sh", "snyk auth {s}\n", "-".join(fake(n, _HEX, seed=9432 + n) for n in (8, 4, 4, 4, 12))),
    ("tunnel.sh", "ngrok config add-authtoken {s}\n", fake(27, seed=9440) + "_" + fake(21, seed=9441)),
    # fourteenth probe: stores that keep a password encoded (base64, obfuscated hex), not hidden
    ("recentservers.xml", '<Server><Host>ftp.example.com</Host><User>deploy</User><Pass encoding="base64">{s}</Pass></Server>\n',
     base64.b64encode(fake(24, seed=9442).encode()).decode()),
    ("WinSCP.ini", "[Sessions\\deploy@ftp.example.com]\nHostName=ftp.example.com\nUserName=deploy\nPassword={s}\n",
     fake(64, _HEX, seed=9443)),
    ("server.remmina", "[remmina]\nserver=10.0.0.5\nusername=admin\npassword={s}\nprotocol=RDP\n",
     base64.b64encode(fake(24, seed=9444).encode()).decode()),
    # seventeenth probe: provider prefixes no rule knew
    (".github/workflows/sbom.yml", "      - run: upload-bom --url https://dt.internal --api-key {s}\n",
     "odt_" + fake(32, seed=9446)),
    ("jobs.py", 'cfg = Config(host=HOST, client_id=CLIENT, client_secret="{s}")\n', "dose" + fake(32, _HEX, seed=9447)),
    ("flags.ts", 'await Statsig.initialize("{s}");\n', "secret-" + fake(43, seed=9448)),
    # nineteenth probe: a WireGuard peer's pre-shared key, Code Climate's coverage upload ID
    ("wg0.conf", "[Peer]\nPublicKey = {p}\nPresharedKey = {s}\nAllowedIPs = 10.0.0.2/32\n".replace(
        "{p}", base64.b64encode(fake(32, seed=9449).encode()).decode()),
     base64.b64encode(fake(32, seed=9450).encode()).decode()),
    (".github/workflows/test.yml", "    env:\n      CC_TEST_REPORTER_ID: {s}\n", fake(64, _HEX, seed=9451)),
    # twentieth probe (stop 33): provider shapes
    ("hooks.env", "MATTERMOST_URL=https://chat.example.com/hooks/{s}\n", fake(26, _LOWER, seed=9452)),
    ("pay.py", "mollie = Client()\nmollie.set_api_key(\"{s}\")\n", "live_" + fake(30, seed=9453)),
    ("consul.hcl", "acl {{\n  tokens {{\n    agent = \"{s}\"\n  }}\n}}\n",
     "-".join(fake(n, _HEX, seed=9454 + n) for n in (8, 4, 4, 4, 12))),
    ("deploy.env", "BWS_ACCESS_TOKEN={s}\n", "0." + "-".join(fake(n, _HEX, seed=9470 + n) for n in (8, 4, 4, 4, 12))
     + "." + fake(30, seed=9483) + ":" + fake(22, seed=9484) + "=="),
    ("ci.env", "INFISICAL_TOKEN={s}\n", "st." + fake(24, _HEX, seed=9485) + "." + fake(32, _HEX, seed=9486) + "."
     + fake(32, _HEX, seed=9487)),
    ("mail.py", "client = Client('{s}')\n", "md-" + fake(22, seed=9488)),
    ("gateway.py", 'value = "{s}"\n', "sk-" + fake(48, seed=9489)),
    # twenty-third probe (stop 33): tools' own credential files
    ("MobaXterm.ini", "[Passwords]\nssh22:admin@10.0.0.5={s}\n", base64.b64encode(fake(24, seed=9493).encode()).decode()),
    (".config/gh/hosts.yml", "github.com:\n    user: octo\n    oauth_token: {s}\n", "gho_" + fake(36, seed=9494)),
    (".databrickscfg", "[DEFAULT]\nhost = https://adb-1.azuredatabricks.net\ntoken = {s}\n", "dapi" + fake(32, _HEX, seed=9495)),
    (".dbt/profiles.yml", "shop:\n  outputs:\n    prod:\n      type: postgres\n      user: dbt\n      password: {s}\n",
     "Kv" + fake(14, seed=9496)),
    # sixteenth probe: Oracle SQL Developer's saved connections (a reversible encryption)
    ("connections.xml", '<StringRefAddr addrType="user"><Contents>app</Contents></StringRefAddr>\n'
     '<StringRefAddr addrType="password">\n<Contents>{s}</Contents>\n</StringRefAddr>\n',
     base64.b64encode(fake(24, seed=9445).encode()).decode()),
]


def _value(index: int) -> str:
    return "Kv" + fake(14, seed=700 + index) + "7q"  # mixed case and digits: a password's shape


@pytest.fixture(scope="module", params=["auto", "python"])
def detector(request: pytest.FixtureRequest) -> Detector:
    return Detector(list(builtin_rules()), engine=request.param)


@pytest.mark.parametrize(("index", "name", "template"), [(i, n, t) for i, (n, t) in enumerate(CONTEXTS)],
                         ids=[n for n, _ in CONTEXTS])
def test_a_credential_in_a_common_context_is_found(detector: Detector, index: int, name: str, template: str) -> None:
    secret = _value(index)
    found = detector.scan_text(template.format(s=secret), name)
    assert secret in {f.secret for f in found}, [f.rule_id for f in found]


@pytest.mark.parametrize(("name", "template", "secret"), SHAPED, ids=[n for n, _, _ in SHAPED])
def test_a_provider_shaped_credential_in_its_place_is_found(detector: Detector, name: str, template: str,
                                                           secret: str) -> None:
    found = detector.scan_text(template.format(s=secret), name)
    assert secret in {f.secret for f in found}, [f.rule_id for f in found]


def test_a_basic_credential_in_a_proxy_header_directive_is_found(detector: Detector) -> None:
    value = base64.b64encode(f"svc:{_value(99)}".encode()).decode()
    found = detector.scan_text(f'proxy_set_header Authorization "Basic {value}";\n', "nginx.conf")
    assert value in {f.secret for f in found}


def test_every_context_is_found_in_history_beside_characters_hyperscan_cannot_vouch_for(
        git_repo: GitRepo) -> None:
    """The same credentials committed in files that also hold non-ASCII text: history searches
    such versions through their shadow (``scanner.shadow``), where an approximated rule is found
    by its rewritten regex or its keywords (``RuleMatcher._shadow_rewrite``); none may slip past,
    in the first version or in a later one that only edits a line elsewhere."""
    texts = {f"c{index:03d}/{name}": template.format(s=_value(index))
             for index, (name, template) in enumerate(CONTEXTS)}
    for tail, message in (("# \u017fee\n", "contexts beside non-ASCII text"),
                          ("# \u017fee, edited\n", "an edit elsewhere in each file")):
        for path, text in texts.items():
            git_repo.stage(path, "# caf\u00e9 \u00fcber na\u00efve\n" + text + tail)
        git_repo.commit(message)
    result = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    found = {(f.path, f.secret) for f in result.findings}
    missed = [path for index, path in enumerate(texts) if (path, _value(index)) not in found]
    assert missed == []


def test_every_context_is_found_in_history_between_other_lines(git_repo: GitRepo) -> None:
    """The same credentials with ASCII lines before and after them: history searches such texts
    with the Hyperscan database, where a rule's ``$`` without ``(?m)`` only matches at the end of
    the text (``vault login TOKEN`` followed by another command was missed that way)."""
    texts = {f"c{index:03d}/{name}": "# setup\n" + template.format(s=_value(index)) + "# done\n"
             for index, (name, template) in enumerate(CONTEXTS)}
    for path, text in texts.items():
        git_repo.stage(path, text)
    git_repo.commit("contexts between other lines")
    result = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    found = {(f.path, f.secret) for f in result.findings}
    missed = [path for index, path in enumerate(texts) if (path, _value(index)) not in found]
    assert missed == []


@pytest.mark.parametrize(("path", "rule_id"), [(".pypirc", "pypirc-password"), ("etc/odbc.ini", "ini-section-password"),
                                               ("ftp/sites.ini", "ini-section-password")])
def test_an_ini_login_section_is_named_for_its_file(detector: Detector, path: str, rule_id: str) -> None:
    """A section holding a user name and a password is PyPI's only in a .pypirc: elsewhere (an ODBC
    data source, an FTP client's sites) the finding must not tell the user to revoke a PyPI token."""
    secret = _value(990)
    found = {f.rule_id for f in detector.scan_text(f"[prod]\nusername = app\npassword = {secret}\n", path)
             if f.secret == secret}
    assert found == {rule_id}


def test_an_option_files_user_and_password_lines_are_no_libpq_connection_string(detector: Detector) -> None:
    secret = _value(991)
    found = {f.rule_id for f in detector.scan_text(f"[client]\nuser=backup\npassword={secret}\n", ".my.cnf")
             if f.secret == secret}
    assert found == {"ini-section-password"}
