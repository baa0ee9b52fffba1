from evaluation import create_app

app = create_app()
